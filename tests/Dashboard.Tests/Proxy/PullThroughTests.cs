using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dashboard.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Proxy;

/// <summary>
/// Debian's skopeo pulls through the dashboard's registry endpoint (the real app on a loopback port) from Debian's
/// docker-registry behind htpasswd; the client only has a dashboard login, never the upstream's.
/// </summary>
public sealed class PullThroughTests : IAsyncLifetime
{
    private const string AdminPassword = "Admin-Passw0rd!-proxy";
    private const string UserPassword = "User-Passw0rd!-proxy";
    private const string PublicHost = "registry.dashboard.test";
    private readonly string _directory = Directory.CreateTempSubdirectory("dashboard-proxy-").FullName;
    private Factory _app = null!;
    private RegistryServer _upstream = null!;
    private string _host = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _upstream = await RegistryServer.StartAsync(RegistryAuth.Basic);
        _app = new Factory(_directory);
        _app.UseKestrel(0);
        _app.StartServer();
        var address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        _host = address.Authority;
        _admin = new HttpClient { BaseAddress = address };
        _admin.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"admin:{AdminPassword}")));
        (await _admin.PostAsJsonAsync("/api/v1/namespaces", new { name = "shop" })).EnsureSuccessStatusCode();
        (await _admin.PostAsJsonAsync("/api/v1/namespaces/shop/imagestreams", new { name = "web" })).EnsureSuccessStatusCode();
        (await _admin.PutAsJsonAsync("/api/v1/namespaces/shop/pullsecrets/upstream",
            new { registry = _upstream.Host, username = RegistryServer.User, password = RegistryServer.Password })).EnsureSuccessStatusCode();
        (await _admin.PostAsJsonAsync("/api/v1/users", new { userName = "puller", password = UserPassword, admin = false })).EnsureSuccessStatusCode();
        (await _admin.PutAsJsonAsync("/api/v1/namespaces/shop/members/puller", new { role = "Viewer" })).EnsureSuccessStatusCode();
        (await _admin.PostAsJsonAsync("/api/v1/users", new { userName = "outsider", password = UserPassword, admin = false })).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
        await _upstream.DisposeAsync();
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

    private async Task TagAsync(string tag, string from) =>
        (await _admin.PutAsJsonAsync($"/api/v1/namespaces/shop/imagestreams/web/tags/{tag}", new { from, insecure = true })).EnsureSuccessStatusCode();

    private HttpClient Puller()
    {
        var puller = new HttpClient { BaseAddress = _admin.BaseAddress };
        puller.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"puller:{UserPassword}")));
        return puller;
    }

    /// <summary>A personal access token of the namespace's Viewer, as another dashboard's pull secret holds it.</summary>
    private async Task<string> PullerTokenAsync(string name)
    {
        using var puller = Puller();
        var created = await puller.PostAsJsonAsync("/api/v1/tokens/", new { name });
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>Another dashboard (its own database and data directory) on a loopback port.</summary>
    private static Factory StartDashboard(string directory, IReadOnlyDictionary<string, string>? settings = null)
    {
        var app = new Factory(directory, settings);
        app.UseKestrel(0);
        app.StartServer();
        return app;
    }

    private static HttpClient AdminOf(Factory app)
    {
        var admin = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        admin.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"admin:{AdminPassword}")));
        return admin;
    }

    private static async Task<(int Exit, string Output)> SkopeoAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("skopeo", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await output + await error);
    }

    [Fact]
    public async Task Skopeo_inspects_and_copies_a_single_image_and_a_multi_platform_index_with_only_a_dashboard_login()
    {
        var single = await ImagePusher.PushImageAsync(_upstream, "team/web", "1.0", seed: "single");
        var (index, amd64, arm64) = await ImagePusher.PushIndexAsync(_upstream, "team/web", "multi");
        await TagAsync("1.0", $"{_upstream.Host}/team/web:1.0");
        await TagAsync("multi", $"{_upstream.Host}/team/web:multi");

        var (exit, inspect) = await SkopeoAsync("inspect", "--tls-verify=false", "--creds", $"puller:{UserPassword}", $"docker://{_host}/shop/web:1.0");
        Assert.True(exit == 0, inspect);
        Assert.Equal(single.Digest, JsonDocument.Parse(inspect).RootElement.GetProperty("Digest").GetString());

        var layout = Path.Combine(_directory, "oci");
        (exit, var copy) = await SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"puller:{UserPassword}",
            $"docker://{_host}/shop/web:1.0", $"oci:{layout}:single");
        Assert.True(exit == 0, copy);
        (exit, copy) = await SkopeoAsync("copy", "--all", "--src-tls-verify=false", "--src-creds", $"puller:{UserPassword}",
            $"docker://{_host}/shop/web:multi", $"oci:{layout}:multi");
        Assert.True(exit == 0, copy);
        var copied = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json"))).RootElement.GetProperty("manifests")
            .EnumerateArray().ToDictionary(m => m.GetProperty("annotations").GetProperty("org.opencontainers.image.ref.name").GetString()!, m => m.GetProperty("digest").GetString());
        Assert.Equal(single.Digest, copied["single"]);
        Assert.Equal(index.Digest, copied["multi"]);
        // Every platform's manifest came through, byte for byte (their blobs are named by digest).
        Assert.True(File.Exists(Path.Combine(layout, "blobs", "sha256", amd64.Digest[7..])));
        Assert.True(File.Exists(Path.Combine(layout, "blobs", "sha256", arm64.Digest[7..])));
    }

    [Fact]
    public async Task A_wrong_password_an_outsider_and_a_digest_outside_the_history_are_refused()
    {
        var pushed = await ImagePusher.PushImageAsync(_upstream, "team/web", "2.0", seed: "two");
        var other = await ImagePusher.PushImageAsync(_upstream, "team/web", "not-tagged", seed: "other");
        await TagAsync("2.0", $"{_upstream.Host}/team/web:2.0");

        var (exit, output) = await SkopeoAsync("inspect", "--tls-verify=false", "--creds", "puller:wrong-password", $"docker://{_host}/shop/web:2.0");
        Assert.NotEqual(0, exit);
        Assert.Contains("unauthorized", output, StringComparison.OrdinalIgnoreCase);

        (exit, output) = await SkopeoAsync("inspect", "--tls-verify=false", "--creds", $"outsider:{UserPassword}", $"docker://{_host}/shop/web:2.0");
        Assert.NotEqual(0, exit);

        // The Docker token flow by hand: a token for the repository, then a digest the stream never recorded.
        using var client = new HttpClient { BaseAddress = _admin.BaseAddress };
        var challenge = await client.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.Contains($"realm=\"http://{_host}/v2/token\"", challenge.Headers.WwwAuthenticate.ToString());
        using var login = new HttpRequestMessage(HttpMethod.Get, "/v2/token?service=dashboard&scope=repository:shop/web:pull");
        login.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"puller:{UserPassword}")));
        var token = (await (await client.SendAsync(login)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v2/shop/web/manifests/{pushed.Digest}")).StatusCode);
        var outside = await client.GetAsync($"/v2/shop/web/manifests/{other.Digest}");
        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
        Assert.Equal("MANIFEST_UNKNOWN", (await outside.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors")[0].GetProperty("code").GetString());
        var tags = await client.GetFromJsonAsync<JsonElement>("/v2/shop/web/tags/list");
        Assert.Contains("2.0", tags.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.PutAsync("/v2/shop/web/manifests/3.0", new StringContent("{}"))).StatusCode);
    }

    [Fact]
    public async Task Anonymous_pulls_work_only_while_an_admin_allows_them_for_the_namespace_and_wrong_credentials_stay_refused()
    {
        var pushed = await ImagePusher.PushImageAsync(_upstream, "team/web", "4.0", seed: "anonymous");
        await TagAsync("4.0", $"{_upstream.Host}/team/web:4.0");
        (await _admin.PostAsJsonAsync("/api/v1/namespaces", new { name = "vault" })).EnsureSuccessStatusCode();

        var (exit, output) = await SkopeoAsync("inspect", "--tls-verify=false", "--no-creds", $"docker://{_host}/shop/web:4.0");
        Assert.True(exit != 0, output);
        Assert.Contains("unauthorized", output, StringComparison.OrdinalIgnoreCase);

        // Only an admin may open a namespace; a member's attempt changes nothing.
        using var puller = Puller();
        Assert.Equal(HttpStatusCode.Forbidden, (await puller.PutAsJsonAsync("/api/v1/namespaces/shop/anonymous-pull", new { allowed = true })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PutAsJsonAsync("/api/v1/namespaces/shop/anonymous-pull", new { })).StatusCode);
        Assert.False((await _admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/shop")).GetProperty("anonymousPull").GetBoolean());

        var opened = await _admin.PutAsJsonAsync("/api/v1/namespaces/shop/anonymous-pull", new { allowed = true });
        opened.EnsureSuccessStatusCode();
        Assert.True((await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("anonymousPull").GetBoolean());

        var layout = Path.Combine(_directory, "oci-anonymous");
        (exit, output) = await SkopeoAsync("copy", "--src-tls-verify=false", "--src-no-creds", $"docker://{_host}/shop/web:4.0", $"oci:{layout}:anon");
        Assert.True(exit == 0, output);
        var copied = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json"))).RootElement.GetProperty("manifests")[0];
        Assert.Equal(pushed.Digest, copied.GetProperty("digest").GetString());

        // The Docker flow without a login: an anonymous token for the open namespace, the Basic challenge for the closed one.
        using var client = new HttpClient { BaseAddress = _admin.BaseAddress };
        var token = await client.GetAsync("/v2/token?service=dashboard&scope=repository:shop/web:pull");
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v2/token?service=dashboard&scope=repository:vault/web:pull")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v2/_catalog")).StatusCode);
        client.DefaultRequestHeaders.Authorization = new("Bearer", (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/shop/web/tags/list")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v2/vault/web/tags/list")).StatusCode);
        // Nor does an anonymous token open the API.
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/namespaces")).StatusCode);

        // Wrong credentials are refused, not quietly treated as anonymous.
        (exit, output) = await SkopeoAsync("inspect", "--tls-verify=false", "--creds", "puller:wrong-password", $"docker://{_host}/shop/web:4.0");
        Assert.True(exit != 0, output);
        Assert.Contains("unauthorized", output, StringComparison.OrdinalIgnoreCase);

        (await _admin.PutAsJsonAsync("/api/v1/namespaces/shop/anonymous-pull", new { allowed = false })).EnsureSuccessStatusCode();
        (exit, output) = await SkopeoAsync("inspect", "--tls-verify=false", "--no-creds", $"docker://{_host}/shop/web:4.0");
        Assert.True(exit != 0, output);
        var audit = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/events?kind=Namespace");
        Assert.Contains("anonymous pulls allowed", audit.ToString());
        Assert.Contains("anonymous pulls stopped", audit.ToString());
    }

    [Fact]
    public async Task A_second_pull_is_served_from_the_cache_while_the_upstream_is_down()
    {
        var pushed = await ImagePusher.PushImageAsync(_upstream, "team/web", "3.0", seed: "cached");
        await TagAsync("3.0", $"{_upstream.Host}/team/web:3.0");
        var (exit, output) = await SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"puller:{UserPassword}",
            $"docker://{_host}/shop/web:3.0", $"oci:{Path.Combine(_directory, "first")}:3.0");
        Assert.True(exit == 0, output);

        await _upstream.StopAsync();
        (exit, output) = await SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"puller:{UserPassword}",
            $"docker://{_host}/shop/web:3.0", $"oci:{Path.Combine(_directory, "second")}:3.0");

        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(_directory, "second", "blobs", "sha256", pushed.Digest[7..])));
        await _upstream.RestartAsync();
    }

    [Fact]
    public async Task Eight_clients_asking_for_one_uncached_blob_at_once_cause_one_upstream_download()
    {
        await ImagePusher.PushImageAsync(_upstream, "team/web", "4.0", seed: "shared");
        await TagAsync("4.0", $"{_upstream.Host}/team/web:4.0");
        using var client = new HttpClient { BaseAddress = _admin.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"puller:{UserPassword}")));
        var manifest = await client.GetFromJsonAsync<JsonElement>("/v2/shop/web/manifests/4.0");
        var layer = manifest.GetProperty("layers")[0].GetProperty("digest").GetString()!;
        var registry = _app.Services.GetRequiredService<Dashboard.Domain.Registry.RegistryClient>();
        var before = registry.RequestCount;

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.GetByteArrayAsync($"/v2/shop/web/blobs/{layer}")));

        Assert.Equal(1, registry.RequestCount - before);
        var metrics = await _admin.GetStringAsync("/metrics");
        Assert.Matches(@"dashboard_proxy_cache_requests_total\{result=""miss""\} [1-9]", metrics);
        Assert.All(answers, bytes => Assert.Equal(layer, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))));
    }

    [Fact]
    public async Task The_registry_probe_answers_head_as_get_with_the_challenge_or_200()
    {
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _admin.BaseAddress };
        using var challenge = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v2/"));
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.Contains("Bearer realm=", challenge.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.OK, (await _admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v2/"))).StatusCode);
    }

    /// <summary>
    /// Only what the stream recorded is served, blobs included: a layer of another tag of the same upstream repository,
    /// which the namespace's pull secret could fetch, is refused to whoever knows its digest — cached or not.
    /// </summary>
    [Fact]
    public async Task A_blob_the_stream_never_recorded_is_refused_though_its_upstream_repository_has_it()
    {
        await ImagePusher.PushImageAsync(_upstream, "team/web", "7.0", seed: "recorded");
        await ImagePusher.PushImageAsync(_upstream, "team/web", "never-imported", seed: "unrecorded");
        await TagAsync("7.0", $"{_upstream.Host}/team/web:7.0");
        using var member = new HttpClient { BaseAddress = _admin.BaseAddress };
        member.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"puller:{UserPassword}")));
        using var upstream = _upstream.Pusher("team/web");
        using var ask = new HttpRequestMessage(HttpMethod.Get, "/v2/team/web/manifests/never-imported");
        ask.Headers.Accept.ParseAdd(ImagePusher.OciManifest);
        var other = await (await upstream.SendAsync(ask)).Content.ReadFromJsonAsync<JsonElement>();
        var foreignLayer = other.GetProperty("layers")[0].GetProperty("digest").GetString()!;
        var recorded = await member.GetFromJsonAsync<JsonElement>("/v2/shop/web/manifests/7.0");
        var ownLayer = recorded.GetProperty("layers")[0].GetProperty("digest").GetString()!;

        var refused = await member.GetAsync($"/v2/shop/web/blobs/{foreignLayer}");
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Contains("BLOB_UNKNOWN", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await member.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/shop/web/blobs/{foreignLayer}"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync($"/v2/shop/web/blobs/{ownLayer}")).StatusCode);
    }

    /// <summary>
    /// Issue 11, finding 4. The first client's download is held open by the test through the cache itself (the leader's
    /// side of <see cref="Dashboard.Domain.Proxy.BlobCache.Join"/>), so the other namespace's request is certain to wait
    /// for it rather than race it; both requests after that are real HTTP clients of the registry endpoint.
    /// </summary>
    [Fact]
    public async Task Finding_4_a_client_waiting_for_another_namespaces_download_gets_the_blob_only_when_its_own_stream_names_it()
    {
        await ImagePusher.PushImageAsync(_upstream, "team/web", "6.0", seed: "waited-for");
        await TagAsync("6.0", $"{_upstream.Host}/team/web:6.0");
        (await _admin.PostAsJsonAsync("/api/v1/namespaces", new { name = "rival" })).EnsureSuccessStatusCode();
        (await _admin.PostAsJsonAsync("/api/v1/namespaces/rival/imagestreams", new { name = "other" })).EnsureSuccessStatusCode();
        (await _admin.PutAsJsonAsync("/api/v1/namespaces/rival/members/outsider", new { role = "Editor" })).EnsureSuccessStatusCode();
        using var member = new HttpClient { BaseAddress = _admin.BaseAddress };
        member.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"puller:{UserPassword}")));
        using var rival = new HttpClient { BaseAddress = _admin.BaseAddress };
        rival.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"outsider:{UserPassword}")));
        var manifest = await member.GetFromJsonAsync<JsonElement>("/v2/shop/web/manifests/6.0");
        var layer = manifest.GetProperty("layers")[0].GetProperty("digest").GetString()!;
        using var upstream = _upstream.Pusher("team/web");
        var bytes = await upstream.GetByteArrayAsync($"/v2/team/web/blobs/{layer}");
        // Alone, the rival's stream has no such blob.
        Assert.Equal(HttpStatusCode.NotFound, (await rival.GetAsync($"/v2/rival/other/blobs/{layer}")).StatusCode);

        var cache = _app.Services.GetRequiredService<Dashboard.Domain.Proxy.BlobCache>();
        var digest = Dashboard.Domain.Images.Digest.Parse(layer);
        var (leader, _, complete) = cache.Join(digest);
        Assert.True(leader);
        var missesBefore = cache.Statistics.Misses;
        var waiting = rival.GetAsync($"/v2/rival/other/blobs/{layer}");
        await Eventually.ReadAsync(() => Task.FromResult(cache.Statistics.Misses), misses => misses > missesBefore);
        await cache.WriteAsync(digest, new MemoryStream(bytes), Stream.Null, complete!, CancellationToken.None);

        using var refused = await waiting;
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal(bytes, await member.GetByteArrayAsync($"/v2/shop/web/blobs/{layer}"));
    }

    [Fact]
    public async Task A_blob_the_upstream_offloads_to_storage_is_answered_with_the_same_redirect_and_the_copy_succeeds()
    {
        // The upstream's blob storage: a file server over its storage directory, recording who asks.
        var storagePort = RegistryServer.FreePort();
        var askedBy = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var offloading = await RegistryServer.StartAsync(RegistryAuth.Basic, $"http://127.0.0.1:{storagePort}/");
        Directory.CreateDirectory(offloading.StoreDirectory);
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{storagePort}");
        await using var storage = builder.Build();
        Microsoft.AspNetCore.Builder.UseExtensions.Use(storage, async (context, next) =>
        {
            askedBy.Enqueue(context.Request.Headers.UserAgent.ToString());
            await next();
        });
        Microsoft.AspNetCore.Builder.StaticFileExtensions.UseStaticFiles(storage, new Microsoft.AspNetCore.Builder.StaticFileOptions
        {
            FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(offloading.StoreDirectory),
            ServeUnknownFileTypes = true,
        });
        await storage.StartAsync();

        var pushed = await ImagePusher.PushImageAsync(offloading, "team/offloaded", "1", seed: "offloaded");
        (await _admin.PutAsJsonAsync("/api/v1/namespaces/shop/pullsecrets/offloading",
            new { registry = offloading.Host, username = RegistryServer.User, password = RegistryServer.Password })).EnsureSuccessStatusCode();
        await TagAsync("offloaded", $"{offloading.Host}/team/offloaded:1");
        askedBy.Clear();

        var (exit, output) = await SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"puller:{UserPassword}",
            $"docker://{_host}/shop/web:offloaded", $"oci:{Path.Combine(_directory, "offloaded")}:1");

        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(_directory, "offloaded", "blobs", "sha256", pushed.Digest[7..])));
        // The client itself fetched from storage: the dashboard handed over the redirect instead of streaming.
        Assert.Contains(askedBy, agent => agent.Contains("containers", StringComparison.OrdinalIgnoreCase) || agent.Contains("skopeo", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_local_reference_policy_tag_is_rewritten_by_mutate_to_pull_through_the_dashboard()
    {
        var pushed = await ImagePusher.PushImageAsync(_upstream, "team/local", "1", seed: "local");
        (await _admin.PutAsJsonAsync("/api/v1/namespaces/shop/imagestreams/web/tags/local",
            new { from = $"{_upstream.Host}/team/local:1", insecure = true, referencePolicy = "Local" })).EnsureSuccessStatusCode();
        var review = """
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod"},"namespace":"shop","operation":"CREATE",
             "object":{"metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"UPSTREAM/team/local:1"}]}}}}
            """.Replace("UPSTREAM", _upstream.Host);

        var answer = await (await _admin.PostAsync("/admission/mutate", new StringContent(review, Encoding.UTF8, "application/json")))
            .Content.ReadFromJsonAsync<JsonElement>();

        var patch = JsonDocument.Parse(Convert.FromBase64String(answer.GetProperty("response").GetProperty("patch").GetString()!)).RootElement;
        Assert.Equal($"{PublicHost}/shop/web@{pushed.Digest}", patch[0].GetProperty("value").GetString());
    }

    [Fact]
    public async Task A_second_dashboard_imports_from_the_first_ones_registry_endpoint_with_a_pull_secret_holding_a_token_of_the_first()
    {
        // Production tracks development: the first dashboard's stream is the second one's upstream.
        var pushed = await ImagePusher.PushImageAsync(_upstream, "team/web", "5.0", seed: "promoted");
        await TagAsync("5.0", $"{_upstream.Host}/team/web:5.0");
        var token = await PullerTokenAsync("production");

        await using var production = StartDashboard(Path.Combine(_directory, "second"));
        using var admin = AdminOf(production);
        (await admin.PostAsJsonAsync("/api/v1/namespaces", new { name = "prod" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/v1/namespaces/prod/imagestreams", new { name = "web" })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/prod/pullsecrets/development",
            new { registry = _host, username = "puller", password = token })).EnsureSuccessStatusCode();

        var put = await admin.PutAsJsonAsync("/api/v1/namespaces/prod/imagestreams/web/tags/5.0",
            new { from = $"{_host}/shop/web:5.0", insecure = true, scheduled = true });

        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var stream = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/prod/imagestreams/web");
        var tag = stream.GetProperty("status").GetProperty("tags")[0];
        Assert.Equal(pushed.Digest, tag.GetProperty("items")[0].GetProperty("image").GetString());
        Assert.True(stream.GetProperty("spec").GetProperty("tags")[0].GetProperty("scheduled").GetBoolean());
    }

    [Fact]
    public async Task The_cosign_signature_of_a_recorded_image_is_served_by_its_tag_and_the_referrers_answer_and_nothing_of_unrecorded_images()
    {
        var signed = await ImagePusher.PushImageAsync(_upstream, "team/web", "6.0", seed: "signed");
        var unsigned = await ImagePusher.PushImageAsync(_upstream, "team/web", "6.1", seed: "unsigned");
        var stranger = await ImagePusher.PushImageAsync(_upstream, "team/web", "not-tagged", seed: "stranger");
        await TagAsync("6.0", $"{_upstream.Host}/team/web:6.0");
        await TagAsync("6.1", $"{_upstream.Host}/team/web:6.1");
        using var signer = await CosignSigner.CreateAsync();
        var layer = await signer.SignAsync(signed.Digest, $"{_upstream.Host}/team/web");
        var signatureDigest = await CosignSigner.PushAsync(_upstream, "team/web", signed.Digest, layer);
        await signer.SignAndPushAsync(_upstream, "team/web", stranger.Digest);
        var sigTag = CosignSigner.SignatureTag(signed.Digest);

        // Asked for by digest before any listing here (as on another instance than the one that listed it): found by
        // looking at the signatures of the stream's images.
        var (exit, raw) = await SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", $"puller:{UserPassword}",
            $"docker://{_host}/shop/web@{signatureDigest}");
        Assert.True(exit == 0, raw);
        Assert.Equal(signatureDigest, ImagePusher.Sha(Encoding.UTF8.GetBytes(raw.Trim())));

        // The .sig tag, byte for byte, and with its payload blob (what cosign verify reads).
        (exit, raw) = await SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", $"puller:{UserPassword}", $"docker://{_host}/shop/web:{sigTag}");
        Assert.True(exit == 0, raw);
        Assert.Equal(signatureDigest, ImagePusher.Sha(Encoding.UTF8.GetBytes(raw.Trim())));
        var layout = Path.Combine(_directory, "signature");
        (exit, var copy) = await SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"puller:{UserPassword}",
            $"docker://{_host}/shop/web:{sigTag}", $"oci:{layout}:sig");
        Assert.True(exit == 0, copy);
        Assert.Equal(layer.Payload, await File.ReadAllBytesAsync(Path.Combine(layout, "blobs", "sha256", ImagePusher.Sha(layer.Payload)[7..])));

        // The referrers answer lists it (built from the tag: Debian's docker-registry has no referrers API), and what it
        // lists is served by digest.
        using var puller = Puller();
        var referrers = await puller.GetAsync($"/v2/shop/web/referrers/{signed.Digest}?artifactType=application/vnd.dev.cosign.artifact.sig.v1%2Bjson");
        Assert.Equal(HttpStatusCode.OK, referrers.StatusCode);
        Assert.Equal("application/vnd.oci.image.index.v1+json", referrers.Content.Headers.ContentType!.MediaType);
        Assert.Equal("artifactType", referrers.Headers.GetValues("OCI-Filters-Applied").Single());
        var listed = (await referrers.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("manifests").EnumerateArray().Single();
        Assert.Equal(signatureDigest, listed.GetProperty("digest").GetString());
        Assert.Equal("application/vnd.dev.cosign.artifact.sig.v1+json", listed.GetProperty("artifactType").GetString());
        (exit, raw) = await SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", $"puller:{UserPassword}",
            $"docker://{_host}/shop/web@{listed.GetProperty("digest").GetString()}");
        Assert.True(exit == 0, raw);
        Assert.Equal(signatureDigest, ImagePusher.Sha(Encoding.UTF8.GetBytes(raw.Trim())));

        // An image without signatures: 404, as cosign expects ("no signatures found"); its referrers are an empty index.
        var none = await puller.GetAsync($"/v2/shop/web/manifests/{CosignSigner.SignatureTag(unsigned.Digest)}");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Contains("MANIFEST_UNKNOWN", await none.Content.ReadAsStringAsync());
        Assert.Empty((await puller.GetFromJsonAsync<JsonElement>($"/v2/shop/web/referrers/{unsigned.Digest}")).GetProperty("manifests").EnumerateArray());

        // An image the stream never recorded: its signature is not served, though the upstream has it and the namespace's
        // pull secret could fetch it.
        Assert.Equal(HttpStatusCode.NotFound, (await puller.GetAsync($"/v2/shop/web/manifests/{CosignSigner.SignatureTag(stranger.Digest)}")).StatusCode);
        Assert.Empty((await puller.GetFromJsonAsync<JsonElement>($"/v2/shop/web/referrers/{stranger.Digest}")).GetProperty("manifests").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await puller.GetAsync("/v2/shop/web/referrers/sha256:nothex")).StatusCode);
        using var anonymous = new HttpClient { BaseAddress = _admin.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/v2/shop/web/referrers/{signed.Digest}")).StatusCode);
    }


    [Fact]
    public async Task A_second_dashboard_mirroring_through_the_first_finds_a_signature_by_its_referrers_answer_and_verifies_it()
    {
        // A disconnected cluster: the second dashboard reaches the upstream only through the first one's registry, as a
        // mirror of it, and never contacts the upstream itself. The recorded image keeps the upstream's name, which is
        // the repository the signature names.
        var pushed = await ImagePusher.PushImageAsync(_upstream, "team/web", "7.0", seed: "mirrored-signed");
        using var signer = await CosignSigner.CreateAsync();
        await signer.SignAndPushAsync(_upstream, "team/web", pushed.Digest);
        await TagAsync("7.0", $"{_upstream.Host}/team/web:7.0");
        var token = await PullerTokenAsync("disconnected");

        await using var disconnected = StartDashboard(Path.Combine(_directory, "disconnected"));
        using var admin = AdminOf(disconnected);
        (await admin.PostAsJsonAsync("/api/v1/namespaces", new { name = "edge" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/v1/namespaces/edge/imagestreams", new { name = "web" })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/edge/pullsecrets/first-dashboard",
            new { registry = _host, username = "puller", password = token })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/policy/keys/release", new { publicKey = signer.PublicKeyPem, description = "release pipeline" }))
            .EnsureSuccessStatusCode();
        var mirror = new[] { new { source = $"{_upstream.Host}/team/web", mirrors = new[] { $"{_host}/shop/web" }, mirrorSourcePolicy = "NeverContactSource" } };
        (await admin.PutAsJsonAsync("/api/v1/mirrors", new { imageDigestMirrors = mirror, imageTagMirrors = mirror, insecureRegistries = new[] { _host } }))
            .EnsureSuccessStatusCode();
        var before = _upstream.Requests.Count(r => r.Contains("/referrers/", StringComparison.Ordinal));

        var put = await admin.PutAsJsonAsync("/api/v1/namespaces/edge/imagestreams/web/tags/7.0", new { from = $"{_upstream.Host}/team/web:7.0", insecure = true });

        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var image = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/images/{pushed.Digest}");
        Assert.Equal($"{_upstream.Host}/team/web@{pushed.Digest}", image.GetProperty("dockerImageReference").GetString());
        var signature = image.GetProperty("signatures").EnumerateArray().Single();
        Assert.True(signature.GetProperty("verified").GetBoolean(), signature.ToString());
        Assert.Equal("release", signature.GetProperty("key").GetString());
        Assert.Equal($"{_upstream.Host}/team/web", signature.GetProperty("identity").GetString());
        // The first dashboard was asked for the referrers (it asks its upstream's API while answering; the .sig tag alone
        // would not), then served the listed manifest and its payload by digest.
        var asked = await Eventually.ReadAsync(() => Task.FromResult(_upstream.Requests.Count(r => r.Contains("/referrers/", StringComparison.Ordinal))),
            count => count > before);
        Assert.True(asked > before, "the first dashboard was not asked for the image's referrers");
    }

    [Fact]
    public async Task A_dashboard_importing_from_another_as_its_source_verifies_a_signature_naming_the_upstream_only_under_a_configured_identity()
    {
        var pushed = await ImagePusher.PushImageAsync(_upstream, "team/web", "8.0", seed: "promoted-signed");
        using var signer = await CosignSigner.CreateAsync(SigningKey.Ed25519);
        await signer.SignAndPushAsync(_upstream, "team/web", pushed.Digest);
        await TagAsync("8.0", $"{_upstream.Host}/team/web:8.0");
        var token = await PullerTokenAsync("promotion");

        // Production imports from the first dashboard's stream; the signature names the upstream repository it was signed as.
        await using var production = StartDashboard(Path.Combine(_directory, "production"), new Dictionary<string, string>
        {
            ["Dashboard:Signatures:Identities:0:Source"] = $"{_host}/shop",
            ["Dashboard:Signatures:Identities:0:Accept"] = $"{_upstream.Host}/team",
        });
        using var admin = AdminOf(production);
        (await admin.PostAsJsonAsync("/api/v1/namespaces", new { name = "prod" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/v1/namespaces/prod/imagestreams", new { name = "web" })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/prod/pullsecrets/development",
            new { registry = _host, username = "puller", password = token })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/policy/keys/release", new { publicKey = signer.PublicKeyPem })).EnsureSuccessStatusCode();

        var put = await admin.PutAsJsonAsync("/api/v1/namespaces/prod/imagestreams/web/tags/8.0", new { from = $"{_host}/shop/web:8.0", insecure = true });

        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var signature = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/images/{pushed.Digest}")).GetProperty("signatures").EnumerateArray().Single();
        Assert.True(signature.GetProperty("verified").GetBoolean(), signature.ToString());
        Assert.Equal($"{_upstream.Host}/team/web", signature.GetProperty("identity").GetString());
    }

    private sealed class Factory(string directory, IReadOnlyDictionary<string, string>? settings = null) : WebApplicationFactory<Program>
    {
        private readonly TestDatabase _database = TestDatabase.Create();

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await _database.DisposeAsync();
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Dashboard:DataDirectory", Path.Combine(directory, "data"));
            _database.Configure(builder);
            builder.UseSetting("Dashboard:Bootstrap:AdminPassword", AdminPassword);
            builder.UseSetting("Dashboard:Registries:AllowLoopback", "true");
            builder.UseSetting("Dashboard:Registries:MaxRetries", "1");
            builder.UseSetting("Dashboard:Proxy:PublicHost", PublicHost);
            foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            {
                builder.UseSetting(key, value);
            }
        }
    }
}
