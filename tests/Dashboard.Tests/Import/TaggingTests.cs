using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Import;

/// <summary><c>oc tag</c> and <c>oc import-image --all</c> through the REST API, against a real registry.</summary>
public sealed class TaggingTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    private RegistryServer _registry = null!;

    public async Task InitializeAsync() => _registry = await RegistryServer.StartAsync();

    public async Task DisposeAsync() => await _registry.DisposeAsync();

    [Fact]
    public async Task Tagging_an_image_imports_it_at_once_and_an_admin_tag_creates_the_stream()
    {
        var pushed = await ImagePusher.PushImageAsync(_registry, "team/tagged", "3.1");
        await app.CreateNamespaceAsync("tagging");
        using var admin = app.AsAdmin();

        var response = await admin.PutAsJsonAsync("/api/v1/namespaces/tagging/imagestreams/new-stream/tags/3.1",
            new { from = $"{_registry.Host}/team/tagged:3.1", insecure = true });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("3.1", status.GetProperty("tag").GetString());
        Assert.Equal(pushed.Digest, status.GetProperty("items")[0].GetProperty("image").GetString());
        Assert.Equal("True", status.GetProperty("conditions")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_non_admin_cannot_create_a_stream_by_tagging_and_is_told_why()
    {
        await app.CreateNamespaceAsync("tag-editors");
        await app.CreateUserAsync("tagger", "tag-editors", "Editor");
        using var editor = app.As("tagger", DashboardFactory.UserPassword);

        var response = await editor.PutAsJsonAsync("/api/v1/namespaces/tag-editors/imagestreams/missing/tags/1",
            new { from = $"{_registry.Host}/team/tagged:3.1", insecure = true });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("image stream tag-editors/missing does not exist; only administrators can create image streams by tagging",
            (await Problem.ReadAsync(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_string_source_without_a_registry_host_is_another_streams_tag()
    {
        var pushed = await ImagePusher.PushImageAsync(_registry, "team/base", "1");
        await app.CreateNamespaceAsync("chain", "base", "app");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/chain/imagestreams/base/tags/1", new { from = $"{_registry.Host}/team/base:1", insecure = true }))
            .EnsureSuccessStatusCode();

        var followed = await (await admin.PutAsJsonAsync("/api/v1/namespaces/chain/imagestreams/app/tags/base", new { from = "chain/base:1" }))
            .Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(pushed.Digest, followed.GetProperty("items")[0].GetProperty("image").GetString());
        var stream = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/chain/imagestreams/app");
        var from = stream.GetProperty("spec").GetProperty("tags")[0].GetProperty("from");
        Assert.Equal("ImageStreamTag", from.GetProperty("kind").GetString());
        Assert.Equal("base:1", from.GetProperty("name").GetString());
    }

    /// <summary>
    /// Issue 11, finding 2: an Editor of one namespace cannot read another through a followed tag; a follow keeps working
    /// only while whoever set it may read its source, checked at every import, manual or scheduled (the scheduler imports
    /// as the dashboard itself, <c>Caller.System</c>, which is what this test calls).
    /// </summary>
    [Fact]
    public async Task Finding_2_following_another_namespaces_tag_needs_read_access_there_at_every_import()
    {
        var first = await ImagePusher.PushImageAsync(_registry, "team/secret", "1", seed: "secret-one");
        await app.CreateNamespaceAsync("vault", "secret");
        await app.CreateNamespaceAsync("heist", "stolen");
        await app.CreateUserAsync("thief", "heist", "Editor");
        await app.CreateUserAsync("bridge", "heist", "Editor");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/vault/members/bridge", new { role = "Viewer" })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/vault/imagestreams/secret/tags/1", new { from = $"{_registry.Host}/team/secret:1", insecure = true }))
            .EnsureSuccessStatusCode();

        // An Editor of heist only: one refusal, whether the namespace exists or not.
        using var thief = app.As("thief", DashboardFactory.UserPassword);
        var stolen = await thief.PutAsJsonAsync("/api/v1/namespaces/heist/imagestreams/stolen/tags/x",
            new { from = new { kind = "ImageStreamTag", name = "secret:1", @namespace = "vault" }, scheduled = true });
        var invented = await thief.PutAsJsonAsync("/api/v1/namespaces/heist/imagestreams/stolen/tags/x",
            new { from = new { kind = "ImageStreamTag", name = "secret:1", @namespace = "no-such-vault" }, scheduled = true });
        Assert.Equal(HttpStatusCode.Forbidden, stolen.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, invented.StatusCode);
        Assert.Equal((await Problem.ReadAsync(stolen)).GetProperty("detail").GetString(),
            (await Problem.ReadAsync(invented)).GetProperty("detail").GetString()!.Replace("no-such-vault", "vault"));
        var heist = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/heist/imagestreams/stolen");
        Assert.Equal(0, heist.GetProperty("spec").GetProperty("tags").GetArrayLength());

        // A member of both may follow; the follow holds while they may read the source.
        using var bridge = app.As("bridge", DashboardFactory.UserPassword);
        var followed = await (await bridge.PutAsJsonAsync("/api/v1/namespaces/heist/imagestreams/stolen/tags/x",
            new { from = new { kind = "ImageStreamTag", name = "secret:1", @namespace = "vault" }, scheduled = true })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(first.Digest, followed.GetProperty("items")[0].GetProperty("image").GetString());
        (await bridge.PutAsJsonAsync("/api/v1/namespaces/heist/imagestreams/stolen/tags/upstream",
            new { from = $"{_registry.Host}/team/secret:1", insecure = true, scheduled = true })).EnsureSuccessStatusCode();

        // The source moves on; then bridge loses vault.
        var second = await ImagePusher.PushImageAsync(_registry, "team/secret", "1", seed: "secret-two");
        (await admin.PostAsync("/api/v1/namespaces/vault/imagestreams/secret/tags/1/import", null)).EnsureSuccessStatusCode();
        (await admin.DeleteAsync("/api/v1/namespaces/vault/members/bridge")).EnsureSuccessStatusCode();

        var importer = app.Services.GetRequiredService<Dashboard.Domain.Import.ImageImporter>();
        var scheduled = await importer.ImportTagAsync(Dashboard.Domain.Access.Caller.System, "heist", "stolen", "x");
        Assert.Equal(("Forbidden", false, first.Digest), (scheduled.Reason, scheduled.Succeeded, scheduled.Image));
        var manual = await (await admin.PostAsync("/api/v1/namespaces/heist/imagestreams/stolen/tags/x/import", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Forbidden", manual.GetProperty("condition").GetProperty("reason").GetString());
        Assert.Equal(first.Digest, manual.GetProperty("image").GetString());
        // The tag with a registry source bridge set keeps working without them.
        (await admin.DeleteAsync("/api/v1/namespaces/heist/members/bridge")).EnsureSuccessStatusCode();
        var upstream = await importer.ImportTagAsync(Dashboard.Domain.Access.Caller.System, "heist", "stolen", "upstream");
        Assert.Equal((true, second.Digest), (upstream.Succeeded, upstream.Image));

        // An admin's follow keeps working, scheduled too.
        (await admin.PutAsJsonAsync("/api/v1/namespaces/heist/imagestreams/stolen/tags/x",
            new { from = new { kind = "ImageStreamTag", name = "secret:1", @namespace = "vault" }, scheduled = true })).EnsureSuccessStatusCode();
        var adminFollow = await importer.ImportTagAsync(Dashboard.Domain.Access.Caller.System, "heist", "stolen", "x");
        Assert.Equal((true, second.Digest), (adminFollow.Succeeded, adminFollow.Image));
    }

    [Fact]
    public async Task A_repository_import_takes_tags_in_priority_order_and_lists_the_rest()
    {
        string[] tags = ["latest", "5", "v5", "5.6", "5.5", "v5.5", "5.3.6", "v5.3.6", "5.3.6-beta", "other"];
        foreach (var tag in tags)
        {
            await ImagePusher.PushImageAsync(_registry, "team/versions", tag, seed: tag);
        }

        await app.CreateNamespaceAsync("repo-import", "versions");
        using var admin = app.AsAdmin();
        var response = await admin.PostAsJsonAsync("/api/v1/namespaces/repo-import/imagestreams/versions/import",
            new { from = $"{_registry.Host}/team/versions", maxTags = 6, insecure = true });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["latest", "5", "v5", "5.6", "5.5", "v5.5"], result.GetProperty("imported").EnumerateArray().Select(t => t.GetProperty("tag").GetString()));
        Assert.All(result.GetProperty("imported").EnumerateArray(), t => Assert.Equal("True", t.GetProperty("condition").GetProperty("status").GetString()));
        Assert.Equal(["5.3.6", "v5.3.6", "5.3.6-beta", "other"], result.GetProperty("additionalTags").EnumerateArray().Select(t => t.GetString()));

        var stream = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/repo-import/imagestreams/versions");
        Assert.Equal(6, stream.GetProperty("status").GetProperty("tags").GetArrayLength());
        // Importing the unchanged repository again is a HEAD per tag: every tag reports Unchanged.
        var again = await (await admin.PostAsJsonAsync("/api/v1/namespaces/repo-import/imagestreams/versions/import",
            new { from = $"{_registry.Host}/team/versions", maxTags = 6, insecure = true })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.All(again.GetProperty("imported").EnumerateArray(), t => Assert.Equal("Unchanged", t.GetProperty("condition").GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task Tags_that_share_one_image_import_together_and_store_it_once()
    {
        var pushed = await ImagePusher.PushImageAsync(_registry, "team/shared", "1.0.0");
        foreach (var tag in new[] { "latest", "1", "1.0" })
        {
            await ImagePusher.RetagAsync(_registry, "team/shared", "1.0.0", tag);
        }

        await app.CreateNamespaceAsync("shared-import", "shared");
        using var admin = app.AsAdmin();
        var result = await (await admin.PostAsJsonAsync("/api/v1/namespaces/shared-import/imagestreams/shared/import",
            new { from = $"{_registry.Host}/team/shared", insecure = true })).Content.ReadFromJsonAsync<JsonElement>();

        var imported = result.GetProperty("imported").EnumerateArray().ToList();
        Assert.Equal(4, imported.Count);
        Assert.All(imported, t => Assert.Equal(pushed.Digest, t.GetProperty("image").GetString()));
        Assert.All(imported, t => Assert.Equal("True", t.GetProperty("condition").GetProperty("status").GetString()));
        var image = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/images/{pushed.Digest}");
        Assert.Equal(4, image.GetProperty("usedBy").GetArrayLength());
    }

    [Fact]
    public async Task A_repository_import_with_a_bad_source_or_count_is_refused_naming_the_field()
    {
        await app.CreateNamespaceAsync("repo-bad", "x");
        using var admin = app.AsAdmin();
        var badFrom = await admin.PostAsJsonAsync("/api/v1/namespaces/repo-bad/imagestreams/x/import", new { from = "Not A Repo" });
        Assert.Contains("spaces", await Problem.FieldErrorAsync(badFrom, "from"));
        var badCount = await admin.PostAsJsonAsync("/api/v1/namespaces/repo-bad/imagestreams/x/import", new { from = $"{_registry.Host}/team/versions", maxTags = 0 });
        Assert.Contains("positive", await Problem.FieldErrorAsync(badCount, "maxTags"));
        var missing = await admin.PostAsJsonAsync("/api/v1/namespaces/repo-bad/imagestreams/x/import", new { from = $"{_registry.Host}/team/nothing-here", insecure = true });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.StatusCode);
        Assert.Equal("NotFound", (await Problem.ReadAsync(missing)).GetProperty("reason").GetString());
    }

    [Fact]
    public async Task With_prefer_respond_async_a_repository_import_answers_202_and_its_location_tells_progress_then_the_outcome()
    {
        foreach (var tag in new[] { "1.0", "1.1", "2.0", "latest" })
        {
            await ImagePusher.PushImageAsync(_registry, "team/later", tag, seed: tag);
        }

        await app.CreateNamespaceAsync("repo-async", "later");
        await app.CreateUserAsync("async-viewer", "repo-async", "Viewer");
        await app.CreateNamespaceAsync("repo-async-other");
        await app.CreateUserAsync("async-outsider", "repo-async-other", "Editor");
        using var admin = app.AsAdmin();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces/repo-async/imagestreams/later/import")
        {
            Content = JsonContent.Create(new { from = $"{_registry.Host}/team/later", maxTags = 3, insecure = true }),
        };
        request.Headers.Add("Prefer", "respond-async");

        using var accepted = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("respond-async", accepted.Headers.GetValues("Preference-Applied").Single());
        var location = accepted.Headers.Location!.OriginalString;
        Assert.Matches(@"^/api/v1/namespaces/repo-async/imagestreams/later/imports/\d+$", location);
        var started = await accepted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(3, started.GetProperty("total").GetInt32());
        Assert.Contains(started.GetProperty("state").GetString(), new[] { "Queued", "Running", "Finished" });

        // Hangfire runs it; a reader of the namespace follows it to the end.
        using var viewer = app.As("async-viewer", DashboardFactory.UserPassword);
        var finished = await Eventually.ReadAsync(() => viewer.GetFromJsonAsync<JsonElement>(location),
            run => run.GetProperty("state").GetString() is "Finished" or "Failed", TimeSpan.FromSeconds(60));
        Assert.Equal("Finished", finished.GetProperty("state").GetString());
        Assert.Equal((3, 3, 0), (finished.GetProperty("total").GetInt32(), finished.GetProperty("done").GetInt32(), finished.GetProperty("failed").GetInt32()));
        Assert.Empty(finished.GetProperty("inFlight").EnumerateArray());
        var result = finished.GetProperty("result");
        Assert.Equal(["latest", "2.0", "1.1"], result.GetProperty("imported").EnumerateArray().Select(t => t.GetProperty("tag").GetString()));
        Assert.All(result.GetProperty("imported").EnumerateArray(), t => Assert.Equal("True", t.GetProperty("condition").GetProperty("status").GetString()));
        Assert.Equal(["1.0"], result.GetProperty("additionalTags").EnumerateArray().Select(t => t.GetString()));
        var stream = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/repo-async/imagestreams/later");
        Assert.Equal(3, stream.GetProperty("status").GetProperty("tags").GetArrayLength());

        // Someone who cannot read the namespace learns nothing of it, not even that the import exists.
        using var outsider = app.As("async-outsider", DashboardFactory.UserPassword);
        using var hidden = await outsider.GetAsync(location);
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Contains("'repo-async' does not exist", (await Problem.ReadAsync(hidden)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_asynchronous_repository_import_with_a_bad_source_is_refused_at_once_naming_the_field()
    {
        await app.CreateNamespaceAsync("repo-async-bad", "x");
        using var admin = app.AsAdmin();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces/repo-async-bad/imagestreams/x/import")
        {
            Content = JsonContent.Create(new { from = "Not A Repo" }),
        };
        request.Headers.Add("Prefer", "respond-async");

        using var refused = await admin.SendAsync(request);

        Assert.Contains("spaces", await Problem.FieldErrorAsync(refused, "from"));
    }
}
