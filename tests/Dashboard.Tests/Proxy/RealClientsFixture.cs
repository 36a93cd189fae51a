using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Proxy;

/// <summary>
/// What the real-client tests share, started once and in parallel: the upstream (Debian's docker-registry behind
/// htpasswd), the dashboard on a real loopback port with a pull secret for it, and a private Docker Engine (whose
/// containerd also serves ctr). Namespace <c>shop</c> has the member <c>puller</c>; <c>open</c> is the one whose
/// anonymous switch a test turns on. Upstream images have distinct seeds per test, so tests do not depend on each other.
/// </summary>
public sealed class RealClientsFixture : IAsyncLifetime
{
    public const string UserPassword = "User-Passw0rd!-clients";
    public const string Member = "puller";

    private KestrelDashboard _app = null!;

    public RegistryServer Upstream { get; private set; } = null!;

    public DockerEngine Docker { get; private set; } = null!;

    public Podman Podman { get; } = new();

    public HttpClient Admin { get; private set; } = null!;

    /// <summary>host:port of the dashboard, as an image reference names the registry.</summary>
    public string Host => _app.Address.Authority;

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("dashboard-clients-").FullName;

    public async Task InitializeAsync()
    {
        var upstream = RegistryServer.StartAsync(RegistryAuth.Basic);
        var docker = DockerEngine.StartAsync();
        var app = Task.Run(() => new KestrelDashboard(new Dictionary<string, string>
        {
            ["Dashboard:Registries:AllowLoopback"] = "true",
            ["Dashboard:Registries:MaxRetries"] = "1",
        }));
        try
        {
            await Task.WhenAll(upstream, docker, app);
        }
        finally
        {
            // Whatever did start is stopped by DisposeAsync, also when another part failed.
            Upstream = upstream.IsCompletedSuccessfully ? upstream.Result : null!;
            Docker = docker.IsCompletedSuccessfully ? docker.Result : null!;
            _app = app.IsCompletedSuccessfully ? app.Result : null!;
        }

        Admin = new HttpClient { BaseAddress = _app.Address };
        Admin.DefaultRequestHeaders.Authorization = DashboardFactory.Basic("admin", KestrelDashboard.AdminPassword);

        (await Admin.PostAsJsonAsync("/api/v1/users", new { userName = Member, password = UserPassword, admin = false })).EnsureSuccessStatusCode();
        foreach (var ns in new[] { "shop", "open" })
        {
            (await Admin.PostAsJsonAsync("/api/v1/namespaces", new { name = ns })).EnsureSuccessStatusCode();
            (await Admin.PostAsJsonAsync($"/api/v1/namespaces/{ns}/imagestreams", new { name = "web" })).EnsureSuccessStatusCode();
            (await Admin.PutAsJsonAsync($"/api/v1/namespaces/{ns}/pullsecrets/upstream",
                new { registry = Upstream.Host, username = RegistryServer.User, password = RegistryServer.Password })).EnsureSuccessStatusCode();
        }

        (await Admin.PutAsJsonAsync("/api/v1/namespaces/shop/members/puller", new { role = "Viewer" })).EnsureSuccessStatusCode();
    }

    /// <summary>Pushes a real image to the upstream and tags it in <paramref name="ns"/>/web: what clients then pull.</summary>
    public async Task<PushedManifest> PublishAsync(string ns, string tag, string seed)
    {
        var pushed = await ImagePusher.PushImageAsync(Upstream, "team/web", seed, seed: seed);
        await TagAsync(ns, tag, $"{Upstream.Host}/team/web:{seed}");
        return pushed;
    }

    /// <summary>Tags <paramref name="from"/> (an upstream reference) in <paramref name="ns"/>/web: the dashboard imports it.</summary>
    public async Task TagAsync(string ns, string tag, string from) =>
        (await Admin.PutAsJsonAsync($"/api/v1/namespaces/{ns}/imagestreams/web/tags/{tag}", new { from, insecure = true })).EnsureSuccessStatusCode();

    /// <summary>A new personal access token of the member, as the API hands it out.</summary>
    public async Task<string> AccessTokenAsync(string name)
    {
        using var member = new HttpClient { BaseAddress = _app.Address };
        member.DefaultRequestHeaders.Authorization = DashboardFactory.Basic(Member, UserPassword);
        var created = await member.PostAsJsonAsync("/api/v1/tokens/", new { name });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>A fresh directory for one client's state (a docker login file, a ctr export).</summary>
    public string NewDirectory(string name) => System.IO.Directory.CreateDirectory(Path.Combine(Directory, name)).FullName;

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        // The daemon first: it may still hold connections to the dashboard.
        if (Docker is not null)
        {
            await Docker.DisposeAsync();
        }

        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }

        Podman.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still being released; the temp directory is cleaned by the OS later.
        }
    }
}

/// <summary>One fixture for every real-client test class: one dockerd, one dashboard.</summary>
[CollectionDefinition(Name)]
public sealed class RealClientsCollection : ICollectionFixture<RealClientsFixture>
{
    public const string Name = "Real clients";
}
