using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Scheduling;
using Dashboard.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Registry;

/// <summary>
/// Registry mirrors (issue 15) against real registries: the source (open), a mirror behind htpasswd (the namespace has a
/// pull secret for the mirror's host) and a mirror that is down, with the source stopped where a test says so.
/// </summary>
public sealed class MirrorTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    private RegistryServer _source = null!;
    private RegistryServer _mirror = null!;
    private RegistryServer _down = null!;

    public async Task InitializeAsync()
    {
        _source = await RegistryServer.StartAsync();
        _mirror = await RegistryServer.StartAsync(RegistryAuth.Basic);
        _down = await RegistryServer.StartAsync();
        await _down.StopAsync();
    }

    public async Task DisposeAsync()
    {
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/mirrors", new { })).EnsureSuccessStatusCode();
        await _source.DisposeAsync();
        await _mirror.DisposeAsync();
        await _down.DisposeAsync();
    }

    /// <summary>Mirrors for the source's <c>team</c> repositories: the down one first, then the one with credentials.</summary>
    private object Mirrors(string policy = "AllowContactingSource", bool digest = true, bool tag = true)
    {
        var set = new[] { new { source = $"{_source.Host}/team", mirrors = new[] { $"{_down.Host}/gone", $"{_mirror.Host}/mirrored" }, mirrorSourcePolicy = policy } };
        return new { imageDigestMirrors = digest ? set : [], imageTagMirrors = tag ? set : [], insecureRegistries = new[] { _down.Host, _mirror.Host } };
    }

    private async Task<HttpClient> NamespaceAsync(string ns, object mirrors)
    {
        await app.CreateNamespaceAsync(ns, "app");
        var admin = app.AsAdmin();
        var put = await admin.PutAsJsonAsync("/api/v1/mirrors", mirrors);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        (await admin.PutAsJsonAsync($"/api/v1/namespaces/{ns}/pullsecrets/mirror",
            new { registry = _mirror.Host, username = RegistryServer.User, password = RegistryServer.Password })).EnsureSuccessStatusCode();
        return admin;
    }

    private static async Task TagAsync(HttpClient admin, string ns, string tag, string from, bool scheduled = false) =>
        (await admin.PutAsJsonAsync($"/api/v1/namespaces/{ns}/imagestreams/app/tags/{tag}",
            new { from = new { kind = "DockerImage", name = from }, insecure = true, importMode = "Legacy", scheduled })).EnsureSuccessStatusCode();

    private static async Task<JsonElement> ImportAsync(HttpClient admin, string ns, string tag)
    {
        var response = await admin.PostAsync($"/api/v1/namespaces/{ns}/imagestreams/app/tags/{tag}/import", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string Message(JsonElement imported) => imported.GetProperty("condition").GetProperty("message").GetString()!;

    /// <summary>Copies an image from the source to the mirror as <c>oc image mirror</c> would, with skopeo (same digests).</summary>
    private async Task MirrorImageAsync(string repository, string tag)
    {
        var copied = await Command.RunAsync("skopeo", ["copy", "--src-tls-verify=false", "--dest-tls-verify=false",
            "--dest-creds", $"{RegistryServer.User}:{RegistryServer.Password}",
            $"docker://{_source.Host}/team/{repository}:{tag}", $"docker://{_mirror.Host}/mirrored/{repository}:{tag}"]);
        Assert.True(copied.Succeeded, copied.ToString());
    }

    [Fact]
    public async Task A_tag_imports_from_its_tag_mirror_while_the_source_is_stopped_and_the_image_keeps_the_source_name()
    {
        var pushed = await ImagePusher.PushImageAsync(_source, "team/app", "1.0");
        await MirrorImageAsync("app", "1.0");
        await _source.StopAsync();
        using var admin = await NamespaceAsync("mirror-tag", Mirrors());
        await TagAsync(admin, "mirror-tag", "1.0", $"{_source.Host}/team/app:1.0");

        var imported = await ImportAsync(admin, "mirror-tag", "1.0");

        Assert.Equal("True", imported.GetProperty("condition").GetProperty("status").GetString());
        Assert.Equal(pushed.Digest, imported.GetProperty("image").GetString());
        Assert.Contains($"answered by mirror {_mirror.Host}/mirrored/app", Message(imported));
        var image = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/images/{pushed.Digest}");
        Assert.Equal($"{_source.Host}/team/app@{pushed.Digest}", image.GetProperty("dockerImageReference").GetString());
        // The tag by tag mirror, the config blob by digest mirror: both from the mirror with credentials.
        var asked = await Eventually.ReadAsync(() => Task.FromResult(_mirror.Requests), r => r.Any(l => l.StartsWith("GET /v2/mirrored/app/blobs/")));
        Assert.Contains("GET /v2/mirrored/app/manifests/1.0 200", asked);
        Assert.Contains(asked, l => l.StartsWith("GET /v2/mirrored/app/blobs/sha256:") && l.EndsWith(" 200"));
        Assert.DoesNotContain(RegistryServer.Password, imported.ToString());
    }

    [Fact]
    public async Task NeverContactSource_with_every_mirror_failing_names_every_place_tried_and_leaves_the_source_alone()
    {
        await ImagePusher.PushImageAsync(_source, "team/app", "2.0");
        using var admin = await NamespaceAsync("mirror-never", Mirrors("NeverContactSource"));
        await TagAsync(admin, "mirror-never", "2.0", $"{_source.Host}/team/app:2.0");

        var failed = await ImportAsync(admin, "mirror-never", "2.0");

        Assert.Equal("False", failed.GetProperty("condition").GetProperty("status").GetString());
        Assert.Equal("NotFound", failed.GetProperty("condition").GetProperty("reason").GetString());
        Assert.Contains($"tried {_down.Host}/gone/app (unreachable), {_mirror.Host}/mirrored/app (not found).", Message(failed));
        Assert.DoesNotContain($"{_source.Host}/team/app (", Message(failed));
        await Eventually.ReadAsync(() => Task.FromResult(_mirror.Requests), r => r.Any(l => l.Contains("/manifests/2.0 404")));
        Assert.DoesNotContain(_source.Requests, l => !l.StartsWith("PUT ") && l.Contains("/manifests/2.0"));
    }

    [Fact]
    public async Task AllowContactingSource_falls_back_to_the_source_and_with_the_source_stopped_names_all_three()
    {
        var pushed = await ImagePusher.PushImageAsync(_source, "team/app", "3.0");
        using var admin = await NamespaceAsync("mirror-allow", Mirrors());
        await TagAsync(admin, "mirror-allow", "3.0", $"{_source.Host}/team/app:3.0");

        var imported = await ImportAsync(admin, "mirror-allow", "3.0");

        Assert.Equal(pushed.Digest, imported.GetProperty("image").GetString());
        Assert.DoesNotContain("mirror", Message(imported));
        Assert.Contains("GET /v2/team/app/manifests/3.0 200",
            await Eventually.ReadAsync(() => Task.FromResult(_source.Requests), r => r.Contains("GET /v2/team/app/manifests/3.0 200")));
        Assert.Contains(_mirror.Requests, l => l.StartsWith("GET /v2/mirrored/app/manifests/3.0 404"));

        await _source.StopAsync();
        await TagAsync(admin, "mirror-allow", "3.1", $"{_source.Host}/team/app:3.1");
        var failed = await ImportAsync(admin, "mirror-allow", "3.1");

        Assert.Equal("Unreachable", failed.GetProperty("condition").GetProperty("reason").GetString());
        Assert.Contains($"tried {_down.Host}/gone/app (unreachable), {_mirror.Host}/mirrored/app (not found), {_source.Host}/team/app (unreachable).",
            Message(failed));
    }

    [Fact]
    public async Task A_scheduled_check_asks_the_mirrors_even_while_the_source_is_paused()
    {
        await ImagePusher.PushImageAsync(_source, "team/app", "4.0");
        await MirrorImageAsync("app", "4.0");
        await _source.StopAsync();
        using var admin = await NamespaceAsync("mirror-sched", Mirrors());
        await TagAsync(admin, "mirror-sched", "4.0", $"{_source.Host}/team/app:4.0", scheduled: true);
        await ImportAsync(admin, "mirror-sched", "4.0");
        var moved = await ImagePusher.PushImageAsync(_mirror, "mirrored/app", "4.0", seed: "rebuilt");

        // A rate-limited source does not hold the check back: its mirrors answer for it.
        app.Services.GetRequiredService<RegistryPauses>().Pause(_source.Host, TimeSpan.FromMinutes(10));
        var scheduler = app.Services.GetRequiredService<ImportScheduler>();
        await scheduler.TickAsync();
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync())
        {
            var stream = await db.ImageStreams.SingleAsync(s => s.Namespace.Name == "mirror-sched" && s.Name == "app");
            await db.TagSchedules.Where(s => s.ImageStreamId == stream.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.NextCheckAt, DateTime.UtcNow.AddMinutes(-1)));
        }

        foreach (var check in await scheduler.TickAsync())
        {
            await scheduler.RunAsync(check);
        }

        var status = await Eventually.ReadAsync(() => StatusAsync(admin, "mirror-sched", "4.0"),
            s => s.GetProperty("items")[0].GetProperty("image").GetString() == moved.Digest);
        Assert.Equal(moved.Digest, status.GetProperty("items")[0].GetProperty("image").GetString());
        Assert.Contains($"answered by mirror {_mirror.Host}/mirrored/app", status.GetProperty("conditions")[0].GetProperty("message").GetString());
    }

    private static async Task<JsonElement> StatusAsync(HttpClient admin, string ns, string tag)
    {
        var body = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/namespaces/{ns}/imagestreams/app");
        return body.GetProperty("status").GetProperty("tags").EnumerateArray().Single(t => t.GetProperty("tag").GetString() == tag);
    }

    [Fact]
    public async Task Pull_through_asks_the_digest_mirror_while_the_source_is_stopped()
    {
        var pushed = await ImagePusher.PushImageAsync(_source, "team/app", "5.0");
        await MirrorImageAsync("app", "5.0");
        using var admin = await NamespaceAsync("mirror-pull", Mirrors(tag: false));
        await TagAsync(admin, "mirror-pull", "5.0", $"{_source.Host}/team/app:5.0");
        Assert.Equal(pushed.Digest, (await ImportAsync(admin, "mirror-pull", "5.0")).GetProperty("image").GetString());
        await _source.StopAsync();

        var manifest = await admin.GetAsync($"/v2/mirror-pull/app/manifests/{pushed.Digest}");

        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        var content = await manifest.Content.ReadAsByteArrayAsync();
        Assert.Equal(pushed.Digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content)));
        var layer = JsonDocument.Parse(content).RootElement.GetProperty("layers")[0].GetProperty("digest").GetString();
        var blob = await admin.GetAsync($"/v2/mirror-pull/app/blobs/{layer}");
        Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
        Assert.Equal(layer, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await blob.Content.ReadAsByteArrayAsync())));
        var asked = await Eventually.ReadAsync(() => Task.FromResult(_mirror.Requests), r => r.Contains($"GET /v2/mirrored/app/blobs/{layer} 200"));
        Assert.Contains($"GET /v2/mirrored/app/manifests/{pushed.Digest} 200", asked);
        Assert.Contains($"GET /v2/mirrored/app/blobs/{layer} 200", asked);
    }

    [Fact]
    public async Task A_bad_document_is_refused_naming_the_entry_the_old_one_stays_and_each_change_is_audited()
    {
        using var admin = await NamespaceAsync("mirror-api", Mirrors());
        var before = await admin.GetFromJsonAsync<JsonElement>("/api/v1/mirrors");
        Assert.Equal($"{_mirror.Host}/mirrored", before.GetProperty("imageDigestMirrors")[0].GetProperty("mirrors")[1].GetString());
        Assert.Equal("AllowContactingSource", before.GetProperty("imageTagMirrors")[0].GetProperty("mirrorSourcePolicy").GetString());

        var bad = await admin.PutAsJsonAsync("/api/v1/mirrors", new
        {
            imageDigestMirrors = new[] { new { source = "docker.io/library", mirrors = new[] { "registry.corp.example.com/dockerhub" } } },
            imageTagMirrors = new[] { new { source = "docker.io/library", mirrors = new[] { "ok.example.com", "not a mirror" } } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("not a mirror", await Problem.FieldErrorAsync(bad, "imageTagMirrors[0].mirrors[1]"));
        Assert.Equal(before.ToString(), (await admin.GetFromJsonAsync<JsonElement>("/api/v1/mirrors")).ToString());

        var badPolicy = await admin.PutAsJsonAsync("/api/v1/mirrors", new
        {
            imageDigestMirrors = new[] { new { source = "docker.io", mirrors = new[] { "m.example.com" }, mirrorSourcePolicy = "Sometimes" } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, badPolicy.StatusCode);
        Assert.Contains("mirrorSourcePolicy", await badPolicy.Content.ReadAsStringAsync());

        var events = await admin.GetFromJsonAsync<JsonElement>("/api/v1/events?kind=Mirrors");
        Assert.Contains(events.GetProperty("items").EnumerateArray(), e => e.GetProperty("summary").GetString()!.Contains($"{_mirror.Host}/mirrored"));
    }

    [Fact]
    public async Task Only_admins_read_or_change_the_mirrors()
    {
        await app.CreateUserAsync("mirror-viewer");
        using var user = app.As("mirror-viewer", DashboardFactory.UserPassword);

        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/api/v1/mirrors")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.PutAsJsonAsync("/api/v1/mirrors", new { })).StatusCode);
    }
}
