using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Infrastructure;

/// <summary>
/// The real app on the real Kestrel, on a loopback port, with settings of the test's own: for what depends on the
/// caller's address (network lists, forwarded headers, sign-in throttling), which the in-process server does not have.
/// <see cref="From"/> gives clients that connect from another loopback address (127.0.0.2, …): Linux routes all of 127/8.
/// </summary>
public sealed class KestrelDashboard : WebApplicationFactory<Program>
{
    public const string AdminPassword = "Admin-Passw0rd!-kestrel";

    private readonly TestDatabase _database = TestDatabase.Create();
    private readonly string _directory = Directory.CreateTempSubdirectory("dashboard-kestrel-").FullName;
    private readonly IReadOnlyDictionary<string, string> _settings;

    public KestrelDashboard(IReadOnlyDictionary<string, string>? settings = null)
    {
        _settings = settings ?? new Dictionary<string, string>();
        UseKestrel(0);
        StartServer();
        Address = new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public Uri Address { get; }

    /// <summary>A client whose connections come from <paramref name="local"/>, optionally with Basic credentials.</summary>
    public HttpClient From(IPAddress local, string? user = null, string? password = null)
    {
        var client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        })
        { BaseAddress = Address };
        if (user is not null)
        {
            client.DefaultRequestHeaders.Authorization = DashboardFactory.Basic(user, password!);
        }

        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _database.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Hangfire may hold its file a moment longer.
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Dashboard:DataDirectory", Path.Combine(_directory, "data"));
        _database.Configure(builder);
        builder.UseSetting("Dashboard:Bootstrap:AdminPassword", AdminPassword);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
