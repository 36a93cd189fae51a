using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dashboard.Admission;
using Dashboard.Tests.Admission;
using Dashboard.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Policy;

/// <summary>The policy through the running app: the rules API, the admission webhook, the evaluate API, decisions and imports.</summary>
public sealed class PolicyApiTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    private RegistryServer _registry = null!;

    public async Task InitializeAsync() => _registry = await RegistryServer.StartAsync();

    public async Task DisposeAsync()
    {
        using var admin = app.AsAdmin();
        await admin.PutAsJsonAsync("/api/v1/policy/rules", Array.Empty<object>());
        await _registry.DisposeAsync();
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_whitelist_refuses_a_deployment_naming_container_image_and_rule_and_the_decision_is_kept()
    {
        using var admin = app.AsAdmin();
        var put = await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[]
        {
            new { name = "corp-registry", description = "Images come from the corporate registry.", action = "Allow", registries = new[] { "registry.corp.example.com" } },
            new { name = "warn-latest", action = "Deny", enforcement = "Warn", tags = new[] { "latest" } },
        });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var review = AdmissionReviewTests.Review("Deployment", """
            {"metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[
              {"name":"app","image":"registry.corp.example.com/team/app:latest"},
              {"name":"cache","image":"redis:7"}]}}}}
            """);
        // The API server has no dashboard session.
        using var cluster = app.Cluster();
        var answer = await cluster.PostAsync("/admission/validate", Json(review));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var response = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("response");
        Assert.Equal("705ab4f5-6393-11e8-b7cc-42010a800002", response.GetProperty("uid").GetString());
        Assert.False(response.GetProperty("allowed").GetBoolean());
        Assert.Equal(403, response.GetProperty("status").GetProperty("code").GetInt32());
        Assert.Equal("container cache: image docker.io/library/redis:7 is refused by rule 'corp-registry': "
            + "it matches no Allow rule; it must match one of: corp-registry (Images come from the corporate registry.)", response.GetProperty("status").GetProperty("message").GetString());
        Assert.Contains("container app: image registry.corp.example.com/team/app:latest is warned about by rule 'warn-latest'",
            response.GetProperty("warnings")[0].GetString());

        var decisions = await Eventually.ReadAsync(() => admin.GetFromJsonAsync<JsonElement>("/api/v1/policy/decisions?deniedOnly=true&rule=corp-registry"),
            d => d.GetProperty("total").GetInt32() >= 1);
        var kept = decisions.GetProperty("items")[0];
        Assert.Equal(("team-a", "Deployment", "web"), (kept.GetProperty("namespace").GetString(), kept.GetProperty("kind").GetString(), kept.GetProperty("name").GetString()));
        Assert.Contains("redis:7", kept.GetProperty("violations").GetString());
    }

    [Fact]
    public async Task The_evaluate_api_answers_members_with_violations_and_admins_with_the_trace_too()
    {
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[] { new { name = "no-latest", tags = new[] { "latest" }, description = "Pin a version." } }))
            .EnsureSuccessStatusCode();
        // A member of the namespace it asks about: the evaluate API answers nobody else (issue 11, finding 3).
        await app.CreateNamespaceAsync("ci");
        await app.CreateUserAsync("ci-bot", "ci");
        using var bot = app.As("ci-bot", DashboardFactory.UserPassword);

        var result = await (await bot.PostAsJsonAsync("/api/v1/policy/evaluate", new { @namespace = "ci", resource = "pods", images = new[] { "nginx", "nginx:1.27" } }))
            .Content.ReadFromJsonAsync<JsonElement>();

        Assert.False(result.GetProperty("allowed").GetBoolean());
        var violation = Assert.Single(result.GetProperty("violations").EnumerateArray());
        Assert.Equal(("docker.io/library/nginx:latest", "no-latest"), (violation.GetProperty("image").GetString(), violation.GetProperty("rule").GetString()));
        Assert.Equal("Pin a version. (tag 'latest' matches 'latest')", violation.GetProperty("reason").GetString());
        // The trace is the policy itself (every rule's name and conditions): for admins, who may read the rules.
        Assert.Empty(result.GetProperty("trace").EnumerateArray());
        var traced = await (await admin.PostAsJsonAsync("/api/v1/policy/evaluate", new { @namespace = "ci", resource = "pods", images = new[] { "nginx:1.27" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(traced.GetProperty("trace").EnumerateArray(), t => t.GetProperty("outcome").GetString()!.StartsWith("does not match"));

        Assert.Equal(HttpStatusCode.Forbidden, (await bot.GetAsync("/api/v1/policy/rules")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bot.PutAsJsonAsync("/api/v1/policy/rules", Array.Empty<object>())).StatusCode);
        var bad = await bot.PostAsJsonAsync("/api/v1/policy/evaluate", new { @namespace = "ci", resource = "deployments", images = new[] { "nginx" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await Problem.ReadAsync(bad)).GetProperty("errors").TryGetProperty("resource", out _));
    }

    [Fact]
    public async Task An_invalid_rule_document_is_refused_whole_naming_rule_and_field_and_the_old_rules_stay()
    {
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[] { new { name = "keep-me", tags = new[] { "latest" } } })).EnsureSuccessStatusCode();

        var bad = await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[]
        {
            new { name = "fine", registries = new[] { "quay.io" } },
            new { name = "broken", repositories = new[] { "Team A/app" } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await Problem.ReadAsync(bad)).GetProperty("errors");
        Assert.Contains("has 'T', which cannot be in it", errors.GetProperty("rules[1].repositories[0]")[0].GetString());
        var rules = await admin.GetFromJsonAsync<JsonElement>("/api/v1/policy/rules");
        Assert.Equal("keep-me", Assert.Single(rules.EnumerateArray()).GetProperty("name").GetString());

        // The change is audited with what it changed.
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[] { new { name = "keep-me", tags = new[] { "latest", "dev" } } })).EnsureSuccessStatusCode();
        var audit = await admin.GetFromJsonAsync<JsonElement>("/api/v1/events?kind=Policy");
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), e => e.GetProperty("summary").GetString()!.Contains("changed keep-me: tags [\"latest\"] → [\"latest\",\"dev\"]"));
    }

    [Theory]
    [InlineData("this is not json", "not JSON")]
    [InlineData("""{"request":{"uid":"1","operation":"CREATE","kind":{"kind":"Pod"}}}""", "carries no 'object'")]
    public async Task A_malformed_review_gets_400_with_a_message_never_500(string body, string says)
    {
        using var cluster = app.Cluster();
        var answer = await cluster.PostAsync("/admission/validate", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains(says, (await Problem.ReadAsync(answer)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_import_from_a_refused_source_fails_forbidden_naming_the_rule_and_fetches_nothing()
    {
        await ImagePusher.PushImageAsync(_registry, "untrusted/app", "1");
        await app.CreateNamespaceAsync("policy-imports", "app");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[]
        {
            new { name = "no-untrusted", resources = new[] { "imports" }, repositories = new[] { "untrusted/**" }, description = "Untrusted images are not imported." },
        })).EnsureSuccessStatusCode();
        var registry = app.Services.GetService(typeof(Dashboard.Domain.Registry.RegistryClient)) as Dashboard.Domain.Registry.RegistryClient;
        var before = registry!.RequestCount;

        var put = await admin.PutAsJsonAsync("/api/v1/namespaces/policy-imports/imagestreams/app/tags/1",
            new { from = $"{_registry.Host}/untrusted/app:1", insecure = true });

        Assert.Equal(before, registry.RequestCount);
        var body = await put.Content.ReadAsStringAsync();
        Assert.Contains("Forbidden", body);
        Assert.Contains("no-untrusted", body);
        var stream = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/policy-imports/imagestreams/app");
        var condition = stream.GetProperty("status").GetProperty("tags")[0].GetProperty("conditions")[0];
        Assert.Equal("Forbidden", condition.GetProperty("reason").GetString());
        Assert.Contains("Untrusted images are not imported.", condition.GetProperty("message").GetString());
    }

    /// <summary>
    /// A follow brings another stream's upstream image into this namespace, so this namespace's import rules judge it: a
    /// namespace that may not import from a registry cannot get its images by following a tag of a namespace that may.
    /// </summary>
    [Fact]
    public async Task A_follow_is_judged_by_the_following_namespaces_import_rules()
    {
        var pushed = await ImagePusher.PushImageAsync(_registry, "outside/tool", "1");
        await app.CreateNamespaceAsync("policy-lenient", "base");
        await app.CreateNamespaceAsync("policy-strict", "app");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[]
        {
            new
            {
                name = "strict-imports", resources = new[] { "imports" }, repositories = new[] { "outside/**" },
                namespaces = new { mode = "Only", names = new[] { "policy-strict" } }, description = "The strict namespace builds on vetted images only.",
            },
        })).EnsureSuccessStatusCode();
        var lenient = await (await admin.PutAsJsonAsync("/api/v1/namespaces/policy-lenient/imagestreams/base/tags/1",
            new { from = $"{_registry.Host}/outside/tool:1", insecure = true })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(pushed.Digest, lenient.GetProperty("items")[0].GetProperty("image").GetString());

        var strict = await (await admin.PutAsJsonAsync("/api/v1/namespaces/policy-strict/imagestreams/app/tags/1", new { from = "policy-lenient/base:1" }))
            .Content.ReadFromJsonAsync<JsonElement>();

        var condition = strict.GetProperty("conditions")[0];
        Assert.Equal(("False", "Forbidden"), (condition.GetProperty("status").GetString(), condition.GetProperty("reason").GetString()));
        Assert.Contains("strict-imports", condition.GetProperty("message").GetString());
        Assert.Equal(0, strict.GetProperty("items").GetArrayLength());
    }

    /// <summary>
    /// Facts are read as seen from the namespace asked about (issue 11, finding 3): its own streams, then namespaces an
    /// admin shared with the cluster. This test resolved across namespaces before; it now shows the namespace rule.
    /// </summary>
    [Fact]
    public async Task Known_image_and_label_rules_read_what_the_namespace_or_a_shared_one_imported()
    {
        var pushed = await ImagePusher.PushImageAsync(_registry, "team/labelled", "1", new Dictionary<string, string> { ["org.example.team"] = "payments" });
        await app.CreateNamespaceAsync("policy-known", "app");
        await app.CreateNamespaceAsync("prod");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/policy-known/imagestreams/app/tags/1",
            new { from = $"{_registry.Host}/team/labelled:1", insecure = true })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[]
        {
            new { name = "known-only", requireKnown = false, description = "Import images into a stream first." },
            new { name = "payments-label", action = "Allow", labels = new[] { new { key = "org.example.team", op = "Equals", value = "payments" } } },
        })).EnsureSuccessStatusCode();

        async Task<bool> AllowedAsync(string @namespace, string image) =>
            (await (await admin.PostAsJsonAsync("/api/v1/policy/evaluate", new { @namespace, images = new[] { image } })).Content.ReadFromJsonAsync<JsonElement>())
                .GetProperty("allowed").GetBoolean();

        // In its own namespace: through the stream tag that follows it, and by the digest the import stored.
        Assert.True(await AllowedAsync("policy-known", $"{_registry.Host}/team/labelled:1"));
        Assert.True(await AllowedAsync("policy-known", $"{_registry.Host}/team/labelled@{pushed.Digest}"));
        Assert.False(await AllowedAsync("policy-known", $"{_registry.Host}/team/other:1"));
        // Another namespace knows nothing of it, until an admin shares the namespace with the cluster.
        Assert.False(await AllowedAsync("prod", $"{_registry.Host}/team/labelled:1"));
        Assert.False(await AllowedAsync("prod", $"{_registry.Host}/team/labelled@{pushed.Digest}"));
        var shared = await admin.PutAsJsonAsync("/api/v1/namespaces/policy-known/shared", new { shared = true });
        Assert.True((await shared.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("shared").GetBoolean());
        try
        {
            Assert.True(await AllowedAsync("prod", $"{_registry.Host}/team/labelled:1"));
            Assert.True(await AllowedAsync("prod", $"{_registry.Host}/team/labelled@{pushed.Digest}"));
            Assert.Contains("shared with the cluster", await admin.GetStringAsync("/api/v1/events?namespace=policy-known"));
        }
        finally
        {
            (await admin.PutAsJsonAsync("/api/v1/namespaces/policy-known/shared", new { shared = false })).EnsureSuccessStatusCode();
        }
    }

    /// <summary>The evaluate API answers members about their own namespaces only (issue 11, finding 3).</summary>
    [Fact]
    public async Task The_evaluate_api_answers_only_for_namespaces_the_caller_reads()
    {
        await app.CreateNamespaceAsync("policy-mine");
        await app.CreateNamespaceAsync("policy-theirs");
        await app.CreateUserAsync("policy-member", "policy-mine", "Viewer");
        using var member = app.As("policy-member", DashboardFactory.UserPassword);
        Assert.Equal(HttpStatusCode.OK, (await member.PostAsJsonAsync("/api/v1/policy/evaluate", new { @namespace = "policy-mine", images = new[] { "nginx:1" } })).StatusCode);
        var theirs = await member.PostAsJsonAsync("/api/v1/policy/evaluate", new { @namespace = "policy-theirs", images = new[] { "nginx:1" } });
        var nowhere = await member.PostAsJsonAsync("/api/v1/policy/evaluate", new { @namespace = "policy-nowhere", images = new[] { "nginx:1" } });
        Assert.Equal(HttpStatusCode.Forbidden, theirs.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, nowhere.StatusCode);
    }

    /// <summary>
    /// Issue 11, finding 3: an Editor points a Local tag at an image of theirs, then re-points it at another reference
    /// whose import fails. Neither steers a Pod of another namespace, and the failed re-point resolves to nothing at all.
    /// </summary>
    [Fact]
    public async Task Finding_3_an_editor_cannot_steer_digest_pinning_outside_their_namespace_nor_through_a_failed_repoint()
    {
        var mine = await ImagePusher.PushImageAsync(_registry, "attacker/img", "1", seed: "attacker");
        await app.CreateNamespaceAsync("steer", "app");
        await app.CreateUserAsync("steerer", "steer", "Editor");
        using var editor = app.As("steerer", DashboardFactory.UserPassword);
        (await editor.PutAsJsonAsync("/api/v1/namespaces/steer/imagestreams/app/tags/x",
            new { from = $"{_registry.Host}/attacker/img:1", insecure = true, referencePolicy = "Local" })).EnsureSuccessStatusCode();
        var webhook = app.Services.GetRequiredService<AdmissionWebhook>();

        async Task<string?> PinnedAsync(string @namespace, string image)
        {
            var review = AdmissionReviewTests.Review("Pod", $$$"""{"metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"{{{image}}}"}]}}""",
                group: "", @namespace: @namespace);
            var answer = await webhook.MutateAsync(AdmissionReviewReader.Read(Encoding.UTF8.GetBytes(review)), Dashboard.Domain.Policy.ResolveImages.AttemptRewrite,
                localHost: "dashboard.example.com");
            var patch = answer.Response.Patch;
            return patch is null ? null : System.Text.Json.Nodes.JsonNode.Parse(patch)![0]!["value"]!.GetValue<string>();
        }

        // Its own namespace pulls it through the dashboard, pinned; nobody else's Pod resolves through it.
        Assert.Equal($"dashboard.example.com/steer/app@{mine.Digest}", await PinnedAsync("steer", $"{_registry.Host}/attacker/img:1"));
        Assert.Null(await PinnedAsync("prod", $"{_registry.Host}/attacker/img:1"));
        // Shared with the cluster by an admin, it resolves for prod too, pulled through the dashboard only when prod can
        // pull there without a login (anonymous pulls); otherwise pinned at the source registry.
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/steer/shared", new { shared = true })).EnsureSuccessStatusCode();
        Assert.Equal($"{_registry.Host}/attacker/img@{mine.Digest}", await PinnedAsync("prod", $"{_registry.Host}/attacker/img:1"));
        (await admin.PutAsJsonAsync("/api/v1/namespaces/steer/anonymous-pull", new { allowed = true })).EnsureSuccessStatusCode();
        Assert.Equal($"dashboard.example.com/steer/app@{mine.Digest}", await PinnedAsync("prod", $"{_registry.Host}/attacker/img:1"));
        (await admin.PutAsJsonAsync("/api/v1/namespaces/steer/shared", new { shared = false })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/steer/anonymous-pull", new { allowed = false })).EnsureSuccessStatusCode();
        Assert.Null(await PinnedAsync("prod", $"{_registry.Host}/attacker/img:1"));

        // Re-pointed at a reference whose import fails: the tag keeps its image, and resolves nothing.
        var repointed = await (await editor.PutAsJsonAsync("/api/v1/namespaces/steer/imagestreams/app/tags/x",
            new { from = $"{_registry.Host}/corp/private:2", insecure = true, referencePolicy = "Local" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("False", repointed.GetProperty("conditions")[0].GetProperty("status").GetString());
        Assert.Equal(mine.Digest, repointed.GetProperty("items")[0].GetProperty("image").GetString());
        Assert.Null(await PinnedAsync("prod", $"{_registry.Host}/corp/private:2"));
        Assert.Null(await PinnedAsync("steer", $"{_registry.Host}/corp/private:2"));
        Assert.Null(await PinnedAsync("steer", $"{_registry.Host}/attacker/img:1"));
    }

    [Fact]
    public async Task Mutate_pins_a_followed_tag_to_its_digest_and_required_mode_refuses_what_does_not_resolve()
    {
        var pushed = await ImagePusher.PushImageAsync(_registry, "team/pinned", "2");
        await app.CreateNamespaceAsync("policy-pin", "app");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/policy-pin/imagestreams/app/tags/2",
            new { from = $"{_registry.Host}/team/pinned:2", insecure = true })).EnsureSuccessStatusCode();
        // A Deployment of the stream's own namespace (issue 11, finding 3: this test pinned a Pod of another namespace before).
        var review = AdmissionReviewTests.Review("Deployment", """
            {"metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[
              {"name":"app","image":"REGISTRY/team/pinned:2"},{"name":"other","image":"quay.io/org/unknown:1"}]}}}}
            """.Replace("REGISTRY", _registry.Host), @namespace: "policy-pin");

        using var cluster = app.Cluster();
        var response = (await (await cluster.PostAsync("/admission/mutate", Json(review))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("response");

        Assert.True(response.GetProperty("allowed").GetBoolean());
        Assert.Equal("JSONPatch", response.GetProperty("patchType").GetString());
        var patch = JsonDocument.Parse(Convert.FromBase64String(response.GetProperty("patch").GetString()!)).RootElement;
        var op = Assert.Single(patch.EnumerateArray());
        Assert.Equal(("replace", "/spec/template/spec/containers/0/image", $"{_registry.Host}/team/pinned@{pushed.Digest}"),
            (op.GetProperty("op").GetString(), op.GetProperty("path").GetString(), op.GetProperty("value").GetString()));

        var required = await app.Services.GetRequiredService<AdmissionWebhook>()
            .MutateAsync(AdmissionReviewReader.Read(Encoding.UTF8.GetBytes(review)), Dashboard.Domain.Policy.ResolveImages.RequiredRewrite);
        Assert.False(required.Response.Allowed);
        Assert.Contains("container other: quay.io/org/unknown:1", required.Response.Status!.Message);
    }

    [Fact]
    public async Task What_would_change_lists_recent_decisions_an_edited_policy_would_flip_without_saving_it()
    {
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", Array.Empty<object>())).EnsureSuccessStatusCode();
        using var cluster = app.Cluster();
        var review = AdmissionReviewTests.Review("Pod", """{"metadata":{"name":"flip-me"},"spec":{"containers":[{"name":"app","image":"busybox:latest"}]}}""");
        (await cluster.PostAsync("/admission/validate", Json(review))).EnsureSuccessStatusCode();
        await Eventually.ReadAsync(() => admin.GetFromJsonAsync<JsonElement>("/api/v1/policy/decisions?namespace=team-a"),
            d => d.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("name").GetString() == "flip-me"));

        var flips = await (await admin.PostAsJsonAsync("/api/v1/policy/rules/preview", new object[] { new { name = "no-latest", tags = new[] { "latest" } } }))
            .Content.ReadFromJsonAsync<JsonElement>();

        var flip = flips.EnumerateArray().First(f => f.GetProperty("name").GetString() == "flip-me");
        Assert.True(flip.GetProperty("wasAllowed").GetBoolean());
        Assert.False(flip.GetProperty("wouldBeAllowed").GetBoolean());
        Assert.Contains("no-latest", flip.GetProperty("why").GetString());
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>("/api/v1/policy/rules")).EnumerateArray());
    }
}
