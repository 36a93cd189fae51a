using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace E2E.Infrastructure;

/// <summary>
/// The real app on a real loopback port (Kestrel, not the in-memory test server, so a browser can reach it), with a
/// fresh data directory and a known admin password, and one headless Chromium that every test opens its own context in.
/// </summary>
public sealed class DashboardServer : IAsyncLifetime
{
    public const string AdminUser = "admin";
    public const string AdminPassword = "E2e-Admin-Passw0rd!";
    public const string UserPassword = "E2e-User-Passw0rd!";

    // Debian's Chromium, not Playwright's download (RECIPES.md). Without the background-networking switches it keeps
    // trying to reach Google services on a network that has none.
    private const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "dashboard-e2e-" + Guid.NewGuid().ToString("N"));
    private readonly Factory _factory;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private HttpClient? _admin;

    public DashboardServer() => _factory = new Factory(_dataDirectory);

    /// <summary>Where the app listens, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        _factory.UseKestrel(0);
        _factory.StartServer();
        var addresses = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.Single().TrimEnd('/') + "/");

        _admin = new HttpClient { BaseAddress = BaseAddress };
        _admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AdminUser}:{AdminPassword}")));

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArguments,
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        _admin?.Dispose();
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Hangfire may hold its file a moment longer; the OS cleans the temp directory later.
        }
    }

    /// <summary>A fresh browser context (no cookies) with a laptop-sized window; dispose it at the end of the test.</summary>
    public Task<IBrowserContext> NewContextAsync() =>
        _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });

    /// <summary>Creates a non-admin user through the REST API with <see cref="UserPassword"/>.</summary>
    public Task CreateUserAsync(string userName) =>
        PostAsync("api/v1/users", new { userName, password = UserPassword, admin = false });

    public Task CreateNamespaceAsync(string name) => PostAsync("api/v1/namespaces", new { name });

    public Task CreateImageStreamAsync(string @namespace, string name) =>
        PostAsync($"api/v1/namespaces/{@namespace}/imagestreams", new { name });

    public async Task AddMemberAsync(string @namespace, string userName, string role)
    {
        using var response = await _admin!.PutAsJsonAsync($"api/v1/namespaces/{@namespace}/members/{userName}", new { role });
        await EnsureSuccessAsync(response);
    }

    /// <summary>Points a tag at an image in a registry, as the tag dialog does.</summary>
    public async Task SetTagAsync(string @namespace, string stream, string tag, string image, bool insecure = false, bool scheduled = false)
    {
        using var response = await _admin!.PutAsJsonAsync($"api/v1/namespaces/{@namespace}/imagestreams/{stream}/tags/{tag}",
            new { from = new { kind = "DockerImage", name = image }, insecure, scheduled });
        await EnsureSuccessAsync(response);
    }

    /// <summary>Changes the import settings as an admin would on the Settings page (only the fields given).</summary>
    public async Task PutImportSettingsAsync(object settings)
    {
        using var response = await _admin!.PutAsJsonAsync("api/v1/settings/import", settings);
        await EnsureSuccessAsync(response);
    }

    /// <summary>The image policy's rules as the API returns them, to put back after a test changed them.</summary>
    public async Task<System.Text.Json.JsonElement> GetPolicyRulesAsync() =>
        await _admin!.GetFromJsonAsync<System.Text.Json.JsonElement>("api/v1/policy/rules");

    public async Task PutPolicyRulesAsync(object rules)
    {
        using var response = await _admin!.PutAsJsonAsync("api/v1/policy/rules", rules);
        await EnsureSuccessAsync(response);
    }

    /// <summary>A viewer of a new namespace holding the given streams.</summary>
    public async Task CreateViewerAsync(string userName, string @namespace, params string[] streams)
    {
        await CreateUserAsync(userName);
        await CreateNamespaceAsync(@namespace);
        await AddMemberAsync(@namespace, userName, "Viewer");
        foreach (var stream in streams)
        {
            await CreateImageStreamAsync(@namespace, stream);
        }
    }

    private async Task PostAsync(string path, object body)
    {
        using var response = await _admin!.PostAsJsonAsync(path, body);
        await EnsureSuccessAsync(response);
    }

    /// <summary>Fails with the problem details the API answered, not only the status code.</summary>
    private static async Task EnsureSuccessAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: " +
                await response.Content.ReadAsStringAsync());
        }
    }

    /// <summary>
    /// Settings go in with <c>UseSetting</c>: with minimal hosting, <c>ConfigureAppConfiguration</c> runs after
    /// Program.cs has already read the data directory.
    /// </summary>
    private sealed class Factory(string dataDirectory) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Dashboard:DataDirectory", dataDirectory);
            builder.UseSetting("Dashboard:Bootstrap:AdminUser", AdminUser);
            builder.UseSetting("Dashboard:Bootstrap:AdminPassword", AdminPassword);
            // The test registries run on this machine; in production loopback addresses are refused.
            builder.UseSetting("Dashboard:Registries:AllowLoopback", "true");
            // The scheduler tick (a real Hangfire recurring job) runs every two seconds, so a newly scheduled tag appears soon.
            builder.UseSetting("Dashboard:Import:TickSeconds", "2");
            // Confirmation notes fade in and out over 1 s and 2 s, covering the buttons under them all the while; tests
            // close them as a user would, and should not wait for the fade. How long they stay is left as it is.
            builder.ConfigureServices(services => services.Configure<MudBlazor.SnackbarConfiguration>(snackbars =>
            {
                snackbars.ShowTransitionDuration = 100;
                snackbars.HideTransitionDuration = 100;
            }));
        }
    }
}
