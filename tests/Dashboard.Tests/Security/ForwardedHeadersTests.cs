using System.Net;
using Dashboard.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Security;

/// <summary>
/// Issue 12, finding 9: behind a reverse proxy on the same host every caller is loopback, which <c>/metrics</c> trusts.
/// With the proxy named, the client's address is the one the proxy forwarded; without, the header is nobody's word.
/// The real Kestrel on loopback plays the proxy's connection.
/// </summary>
public sealed class ForwardedHeadersTests
{
    [Fact]
    public async Task Finding_9_behind_a_named_proxy_metrics_judge_the_forwarded_client_not_the_proxy()
    {
        await using var app = Start(knownProxy: "127.0.0.1");
        using var proxy = Client(app);

        Assert.Equal(HttpStatusCode.OK, (await proxy.SendAsync(Metrics(forwardedFor: "127.0.0.1"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await proxy.SendAsync(Metrics(forwardedFor: "203.0.113.9"))).StatusCode);
    }

    [Fact]
    public async Task Without_a_named_proxy_a_forwarded_header_changes_nothing()
    {
        await using var app = Start(knownProxy: null);
        using var direct = Client(app);

        Assert.Equal(HttpStatusCode.OK, (await direct.SendAsync(Metrics(forwardedFor: "203.0.113.9"))).StatusCode);
    }

    private static HttpRequestMessage Metrics(string forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return request;
    }

    private static Factory Start(string? knownProxy)
    {
        var app = new Factory(knownProxy);
        app.UseKestrel(0);
        app.StartServer();
        return app;
    }

    private static HttpClient Client(Factory app) =>
        new() { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };

    private sealed class Factory(string? knownProxy) : WebApplicationFactory<Program>
    {
        private readonly TestDatabase _database = TestDatabase.Create();
        private readonly string _directory = Directory.CreateTempSubdirectory("dashboard-forwarded-").FullName;

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
            builder.UseSetting("Dashboard:Bootstrap:AdminPassword", "Admin-Passw0rd!-forwarded");
            if (knownProxy is not null)
            {
                builder.UseSetting("Dashboard:ForwardedHeaders:KnownProxies:0", knownProxy);
            }
        }
    }
}
