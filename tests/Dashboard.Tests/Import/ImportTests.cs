using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Import;

/// <summary>Imports through the REST API from real registries (docker-registry, open, htpasswd and token auth).</summary>
public sealed class ImportTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    private RegistryTrio _registries = null!;

    private RegistryServer OpenRegistry { get => _registries.Open; set => _registries.Open = value; }

    private RegistryServer BasicRegistry => _registries.Basic;

    private RegistryServer TokenRegistry => _registries.Token;

    public async Task InitializeAsync() => _registries = await RegistryTrio.StartAsync();

    public async Task DisposeAsync() => await _registries.DisposeAsync();

    private async Task<HttpClient> StreamAsync(string ns, string stream)
    {
        await app.CreateNamespaceAsync(ns, stream);
        return app.AsAdmin();
    }

    private static async Task TagAsync(HttpClient client, string ns, string stream, string tag, string from, string importMode = "Legacy", string kind = "DockerImage")
    {
        var response = await client.PutAsJsonAsync($"/api/v1/namespaces/{ns}/imagestreams/{stream}/tags/{tag}",
            new { from = new { kind, name = from }, insecure = true, importMode });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonElement> ImportAsync(HttpClient client, string ns, string stream, string tag)
    {
        var response = await client.PostAsync($"/api/v1/namespaces/{ns}/imagestreams/{stream}/tags/{tag}/import", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> StatusTagAsync(HttpClient client, string ns, string stream, string tag)
    {
        var body = await client.GetFromJsonAsync<JsonElement>($"/api/v1/namespaces/{ns}/imagestreams/{stream}");
        return body.GetProperty("status").GetProperty("tags").EnumerateArray().Single(t => t.GetProperty("tag").GetString() == tag);
    }

    [Fact]
    public async Task A_private_image_imports_once_the_namespace_has_the_right_pull_secret()
    {
        var pushed = await ImagePusher.PushImageAsync(BasicRegistry, "team/api", "1.0", new Dictionary<string, string> { ["org.opencontainers.image.version"] = "1.0" });
        using var admin = await StreamAsync("private-ns", "api");
        await TagAsync(admin, "private-ns", "api", "1.0", $"{BasicRegistry.Host}/team/api:1.0");

        var refused = await ImportAsync(admin, "private-ns", "api", "1.0");
        Assert.Equal("Unauthorized", refused.GetProperty("condition").GetProperty("reason").GetString());
        Assert.Contains("pull secret", refused.GetProperty("condition").GetProperty("message").GetString());

        var secret = await admin.PutAsJsonAsync("/api/v1/namespaces/private-ns/pullsecrets/corp",
            new { registry = BasicRegistry.Host, username = RegistryServer.User, password = RegistryServer.Password });
        Assert.Equal(HttpStatusCode.OK, secret.StatusCode);
        Assert.DoesNotContain(RegistryServer.Password, await secret.Content.ReadAsStringAsync());

        var imported = await ImportAsync(admin, "private-ns", "api", "1.0");
        Assert.Equal("True", imported.GetProperty("condition").GetProperty("status").GetString());
        Assert.Equal(pushed.Digest, imported.GetProperty("image").GetString());

        var image = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/images/{pushed.Digest}");
        Assert.Equal("1.0", image.GetProperty("config").GetProperty("labels").GetProperty("org.opencontainers.image.version").GetString());
        Assert.Equal(1, image.GetProperty("layers").GetArrayLength());
        Assert.Equal(pushed.LayerSize, image.GetProperty("size").GetInt64());
        Assert.Equal($"{BasicRegistry.Host}/team/api@{pushed.Digest}", image.GetProperty("dockerImageReference").GetString());

        var listed = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/private-ns/pullsecrets/corp");
        Assert.Equal(RegistryServer.User, listed.GetProperty("entries")[0].GetProperty("username").GetString());
        Assert.Contains("accepted", listed.GetProperty("lastResult").GetString());
        Assert.DoesNotContain(RegistryServer.Password, listed.ToString());
    }

    [Fact]
    public async Task A_token_registry_accepts_a_dockerconfigjson_secret_with_an_auth_entry()
    {
        var pushed = await ImagePusher.PushImageAsync(TokenRegistry, "secure/web", "v2");
        using var admin = await StreamAsync("token-ns", "web");
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RegistryServer.User}:{RegistryServer.Password}"));
        var document = JsonSerializer.Serialize(new { auths = new Dictionary<string, object> { [$"http://{TokenRegistry.Host}/v2/"] = new { auth } } });
        (await admin.PutAsJsonAsync("/api/v1/namespaces/token-ns/pullsecrets/robot", new { dockerConfigJson = document })).EnsureSuccessStatusCode();
        await TagAsync(admin, "token-ns", "web", "v2", $"{TokenRegistry.Host}/secure/web:v2");

        var imported = await ImportAsync(admin, "token-ns", "web", "v2");

        Assert.Equal(pushed.Digest, imported.GetProperty("image").GetString());
        Assert.Equal("True", imported.GetProperty("condition").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_token_registry_without_a_pull_secret_is_unauthorized_and_the_message_says_what_to_do()
    {
        await ImagePusher.PushImageAsync(TokenRegistry, "secure/none", "v1");
        using var admin = await StreamAsync("token-none-ns", "none");
        await TagAsync(admin, "token-none-ns", "none", "v1", $"{TokenRegistry.Host}/secure/none:v1");

        var refused = await ImportAsync(admin, "token-none-ns", "none", "v1");

        Assert.Equal("Unauthorized", refused.GetProperty("condition").GetProperty("reason").GetString());
        Assert.Null(refused.GetProperty("image").GetString());
    }

    [Fact]
    public async Task Switching_the_import_mode_reimports_even_when_the_registry_digest_did_not_move()
    {
        var (index, amd64, _) = await ImagePusher.PushIndexAsync(OpenRegistry, "team/switch", "1.0");
        using var admin = await StreamAsync("switch-ns", "switch");
        await TagAsync(admin, "switch-ns", "switch", "t", $"{OpenRegistry.Host}/team/switch:1.0", importMode: "PreserveOriginal");
        Assert.Equal(index.Digest, (await StatusTagAsync(admin, "switch-ns", "switch", "t")).GetProperty("items")[0].GetProperty("image").GetString());

        await TagAsync(admin, "switch-ns", "switch", "t", $"{OpenRegistry.Host}/team/switch:1.0", importMode: "Legacy");

        Assert.Equal(amd64.Digest, (await StatusTagAsync(admin, "switch-ns", "switch", "t")).GetProperty("items")[0].GetProperty("image").GetString());
    }

    [Fact]
    public async Task A_moved_tag_adds_a_generation_an_unchanged_one_does_not_and_a_deleted_one_keeps_the_image()
    {
        var first = await ImagePusher.PushImageAsync(OpenRegistry, "team/moving", "stable", seed: "one");
        using var admin = await StreamAsync("moving-ns", "moving");
        await TagAsync(admin, "moving-ns", "moving", "stable", $"{OpenRegistry.Host}/team/moving:stable");
        await ImportAsync(admin, "moving-ns", "moving", "stable");

        var unchanged = await ImportAsync(admin, "moving-ns", "moving", "stable");
        Assert.False(unchanged.GetProperty("changed").GetBoolean());
        Assert.Equal("Unchanged", unchanged.GetProperty("condition").GetProperty("reason").GetString());
        Assert.Single((await StatusTagAsync(admin, "moving-ns", "moving", "stable")).GetProperty("items").EnumerateArray());

        var second = await ImagePusher.PushImageAsync(OpenRegistry, "team/moving", "stable", seed: "two");
        var moved = await ImportAsync(admin, "moving-ns", "moving", "stable");
        Assert.True(moved.GetProperty("changed").GetBoolean());
        var items = (await StatusTagAsync(admin, "moving-ns", "moving", "stable")).GetProperty("items");
        Assert.Equal([second.Digest, first.Digest], items.EnumerateArray().Select(i => i.GetProperty("image").GetString()));
        Assert.True(items[0].GetProperty("generation").GetInt64() > items[1].GetProperty("generation").GetInt64(), "a move is the tag's next generation");

        await ImagePusher.DeleteTagAsync(OpenRegistry, "team/moving", second.Digest);
        var gone = await ImportAsync(admin, "moving-ns", "moving", "stable");
        Assert.Equal("NotFound", gone.GetProperty("condition").GetProperty("reason").GetString());
        var status = await StatusTagAsync(admin, "moving-ns", "moving", "stable");
        Assert.Equal(second.Digest, status.GetProperty("items")[0].GetProperty("image").GetString());
        Assert.Equal("False", status.GetProperty("conditions")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_manifest_list_is_kept_whole_with_PreserveOriginal_and_as_linux_amd64_with_Legacy()
    {
        var (index, amd64, _) = await ImagePusher.PushIndexAsync(OpenRegistry, "team/multi", "1.0");
        using var admin = await StreamAsync("multi-ns", "multi");
        await TagAsync(admin, "multi-ns", "multi", "whole", $"{OpenRegistry.Host}/team/multi:1.0", importMode: "PreserveOriginal");
        await TagAsync(admin, "multi-ns", "multi", "one", $"{OpenRegistry.Host}/team/multi:1.0", importMode: "Legacy");

        Assert.Equal(index.Digest, (await ImportAsync(admin, "multi-ns", "multi", "whole")).GetProperty("image").GetString());
        Assert.Equal(amd64.Digest, (await ImportAsync(admin, "multi-ns", "multi", "one")).GetProperty("image").GetString());

        var list = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/images/{index.Digest}");
        var platforms = list.GetProperty("manifests").EnumerateArray()
            .Select(m => $"{m.GetProperty("platform").GetProperty("os").GetString()}/{m.GetProperty("platform").GetProperty("architecture").GetString()}");
        Assert.Equal(["linux/amd64", "linux/arm64"], platforms);
        Assert.True(list.GetProperty("size").GetInt64() > 0);

        var again = await ImportAsync(admin, "multi-ns", "multi", "one");
        Assert.Equal("Unchanged", again.GetProperty("condition").GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_legacy_import_keeps_the_platform_the_tag_prefers_and_multi_platform_sources_are_kept_whole_by_default()
    {
        var (index, _, arm64) = await ImagePusher.PushIndexAsync(OpenRegistry, "team/arm", "2.0");
        using var admin = await StreamAsync("prefer-ns", "arm");
        var preferred = await admin.PutAsJsonAsync("/api/v1/namespaces/prefer-ns/imagestreams/arm/tags/arm",
            new { from = $"{OpenRegistry.Host}/team/arm:2.0", insecure = true, importMode = "Legacy",
                  annotations = new Dictionary<string, string> { ["importer.image.openshift.io/prefer-arch"] = "arm64" } });
        Assert.Equal(arm64.Digest, (await preferred.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items")[0].GetProperty("image").GetString());

        var byDefault = await admin.PutAsJsonAsync("/api/v1/namespaces/prefer-ns/imagestreams/arm/tags/whole", new { from = $"{OpenRegistry.Host}/team/arm:2.0", insecure = true });
        Assert.Equal(index.Digest, (await byDefault.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items")[0].GetProperty("image").GetString());
    }

    [Fact]
    public async Task A_tag_that_follows_another_stream_tag_takes_its_image_without_a_registry()
    {
        var pushed = await ImagePusher.PushImageAsync(OpenRegistry, "team/base", "12");
        using var admin = await StreamAsync("follow-ns", "base");
        await app.CreateNamespaceAsync("follow-ns", "app");
        await TagAsync(admin, "follow-ns", "base", "12", $"{OpenRegistry.Host}/team/base:12");
        await ImportAsync(admin, "follow-ns", "base", "12");
        await TagAsync(admin, "follow-ns", "app", "base", "base:12", kind: "ImageStreamTag");

        var followed = await ImportAsync(admin, "follow-ns", "app", "base");

        Assert.Equal(pushed.Digest, followed.GetProperty("image").GetString());
        Assert.Contains("Follows", followed.GetProperty("condition").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Testing_credentials_names_the_matching_secret_and_whether_the_registry_accepts_it()
    {
        await ImagePusher.PushImageAsync(BasicRegistry, "team/tested", "1");
        using var admin = await StreamAsync("test-creds-ns", "x");
        (await admin.PutAsJsonAsync("/api/v1/namespaces/test-creds-ns/pullsecrets/good",
            new { registry = $"{BasicRegistry.Host}/team", username = RegistryServer.User, password = RegistryServer.Password })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/test-creds-ns/pullsecrets/stale",
            new { registry = BasicRegistry.Host, username = RegistryServer.User, password = "Old-Passw0rd!" })).EnsureSuccessStatusCode();

        var response = await admin.PostAsJsonAsync("/api/v1/namespaces/test-creds-ns/pullsecrets/test", new { image = $"{BasicRegistry.Host}/team/tested:1", insecure = true });

        var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToList();
        Assert.Equal(["good", "stale"], results.Select(r => r.GetProperty("secret").GetString()));
        Assert.True(results[0].GetProperty("accepted").GetBoolean());
        Assert.False(results[1].GetProperty("accepted").GetBoolean());
        Assert.DoesNotContain("Old-Passw0rd!", results[1].ToString());
    }

    [Fact]
    public async Task The_credential_test_marks_the_entry_imports_use_and_an_import_gets_past_a_refused_one()
    {
        var pushed = await ImagePusher.PushImageAsync(BasicRegistry, "team/used", "1");
        using var admin = await StreamAsync("used-creds-ns", "x");
        // The more specific entry is tried first and refused; the next one answers.
        (await admin.PutAsJsonAsync("/api/v1/namespaces/used-creds-ns/pullsecrets/stale",
            new { registry = $"{BasicRegistry.Host}/team", username = RegistryServer.User, password = "Old-Passw0rd!" })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/used-creds-ns/pullsecrets/good",
            new { registry = BasicRegistry.Host, username = RegistryServer.User, password = RegistryServer.Password })).EnsureSuccessStatusCode();

        var response = await admin.PostAsJsonAsync("/api/v1/namespaces/used-creds-ns/pullsecrets/test", new { image = $"{BasicRegistry.Host}/team/used:1", insecure = true });

        var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToList();
        Assert.Equal([("stale", false, false), ("good", true, true)],
            results.Select(r => (r.GetProperty("secret").GetString(), r.GetProperty("accepted").GetBoolean(), r.GetProperty("usedByImports").GetBoolean())));
        await TagAsync(admin, "used-creds-ns", "x", "1", $"{BasicRegistry.Host}/team/used:1");
        Assert.Equal(pushed.Digest, (await ImportAsync(admin, "used-creds-ns", "x", "1")).GetProperty("image").GetString());
    }

    [Fact]
    public async Task An_invalid_pull_secret_document_is_refused_naming_what_is_wrong()
    {
        using var admin = await StreamAsync("bad-secret-ns", "x");
        var notJson = await admin.PutAsJsonAsync("/api/v1/namespaces/bad-secret-ns/pullsecrets/s", new { dockerConfigJson = "{auths:" });
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Contains("not valid JSON", await Problem.FieldErrorAsync(notJson, "dockerConfigJson"));

        var badAuth = await admin.PutAsJsonAsync("/api/v1/namespaces/bad-secret-ns/pullsecrets/s",
            new { dockerConfigJson = """{"auths":{"quay.io":{"auth":"bm9jb2xvbg=="}}}""" });
        Assert.Contains("'quay.io'", await Problem.FieldErrorAsync(badAuth, "dockerConfigJson"));

        var missingPassword = await admin.PutAsJsonAsync("/api/v1/namespaces/bad-secret-ns/pullsecrets/s", new { registry = "quay.io", username = "me" });
        Assert.Contains("password", await Problem.FieldErrorAsync(missingPassword, "password"));
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/bad-secret-ns/pullsecrets")).EnumerateArray());
    }

    [Fact]
    public async Task No_pull_secret_password_is_stored_in_plain_text()
    {
        using var admin = await StreamAsync("sealed-ns", "x");
        const string password = "Very-Secret-Registry-Passw0rd";
        (await admin.PutAsJsonAsync("/api/v1/namespaces/sealed-ns/pullsecrets/s",
            new { registry = "quay.io", username = "robot", password })).EnsureSuccessStatusCode();
        await TagAsync(admin, "sealed-ns", "x", "v1", $"{BasicRegistry.Host}/team/sealed:v1");
        await ImportAsync(admin, "sealed-ns", "x", "v1");
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"robot:{password}"));
        var content = await app.StoredTextAsync();
        Assert.Contains("robot", content);
        Assert.DoesNotContain(password, content);
        Assert.DoesNotContain(auth, content);
    }
}
