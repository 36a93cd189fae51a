using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Dashboard.Domain.Access;
using Dashboard.Domain.Users;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Infrastructure;

/// <summary>
/// The real app in memory, on real SQLite files in a fresh data directory of its own (or a fresh PostgreSQL database,
/// see <see cref="TestDatabase"/>), with a known admin password.
/// </summary>
public sealed class DashboardFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create();

    public const string AdminUser = "admin";
    public const string AdminPassword = "Admin-Passw0rd!";
    public const string UserPassword = "Us3r-Passw0rd!";

    /// <summary>
    /// The in-process test server gives requests no remote address, so no network allow-list admits them: the admission
    /// endpoints are reached the way a cluster's API server reaches them in production, with the bearer token.
    /// </summary>
    public const string AdmissionToken = "the-clusters-admission-token";

    /// <summary>More settings or services for a test class's own app (a fixture that news this factory up sets it).</summary>
    public Action<IWebHostBuilder>? Configure { get; init; }

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "dashboard-tests-" + Guid.NewGuid().ToString("N"));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Dashboard:DataDirectory", DataDirectory);
        _database.Configure(builder);
        builder.UseSetting("Dashboard:Bootstrap:AdminUser", AdminUser);
        builder.UseSetting("Dashboard:Bootstrap:AdminPassword", AdminPassword);
        // The test registries run on this machine.
        builder.UseSetting("Dashboard:Registries:AllowLoopback", "true");
        builder.UseSetting("Dashboard:Registries:MaxRetries", "1");
        // Deliveries go out a second after a change instead of the default 30 s window, so tests do not wait.
        builder.UseSetting("Dashboard:Webhooks:CoalesceSeconds", "1");
        builder.UseSetting("Dashboard:Admission:BearerToken", AdmissionToken);
        // The app re-checks a session's security stamp every minute; the tests check at every request, so
        // "a disabled user's session stops working" is observable without waiting a minute.
        builder.ConfigureTestServices(services =>
            services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = TimeSpan.Zero));
        Configure?.Invoke(builder);
    }

    public Task InitializeAsync()
    {
        _ = Server;
        return Task.CompletedTask;
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await _database.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Hangfire may still hold its file for a moment; the temp directory is cleaned by the OS later.
        }
    }

    /// <summary>Everything the app has stored in its database(s), as text (see <see cref="TestDatabase.StoredTextAsync"/>).</summary>
    public Task<string> StoredTextAsync() => _database.StoredTextAsync(DataDirectory);

    /// <summary>A client that does not follow redirects, so tests see the 302 to the sign-in page.</summary>
    public HttpClient Anonymous() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public HttpClient As(string userName, string password)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = Basic(userName, password);
        return client;
    }

    public HttpClient AsAdmin() => As(AdminUser, AdminPassword);

    /// <summary>The cluster's API server: the admission endpoints' bearer token, nothing else.</summary>
    public HttpClient Cluster()
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdmissionToken);
        return client;
    }

    public static AuthenticationHeaderValue Basic(string userName, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{userName}:{secret}")));

    /// <summary>
    /// Creates a non-admin user through the API, with a membership when <paramref name="namespace"/> is given.
    /// Test classes share one app, so a user that already exists is fine.
    /// </summary>
    public async Task CreateUserAsync(string userName, string? @namespace = null, string role = "Viewer")
    {
        using var admin = AsAdmin();
        EnsureCreated(await admin.PostAsJsonAsync("/api/v1/users", new { userName, password = UserPassword }));
        if (@namespace is not null)
        {
            (await admin.PutAsJsonAsync($"/api/v1/namespaces/{@namespace}/members/{userName}", new { role })).EnsureSuccessStatusCode();
        }
    }

    /// <summary>Creates a namespace and streams in it through the API; ones that already exist are fine.</summary>
    public async Task CreateNamespaceAsync(string name, params string[] streams)
    {
        using var admin = AsAdmin();
        EnsureCreated(await admin.PostAsJsonAsync("/api/v1/namespaces", new { name }));
        foreach (var stream in streams)
        {
            EnsureCreated(await admin.PostAsJsonAsync($"/api/v1/namespaces/{name}/imagestreams", new { name = stream }));
        }
    }

    private static void EnsureCreated(HttpResponseMessage response)
    {
        if (response.StatusCode != System.Net.HttpStatusCode.Conflict)
        {
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>The domain's view of a user, for tests that call services directly.</summary>
    public async Task<Caller> CallerAsync(string userName)
    {
        using var scope = Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<DashboardUser>>();
        var user = await users.FindByNameAsync(userName) ?? throw new InvalidOperationException($"no user {userName}");
        return new Caller(user.Id, user.UserName!, await users.IsInRoleAsync(user, DashboardUser.AdminRole));
    }
}
