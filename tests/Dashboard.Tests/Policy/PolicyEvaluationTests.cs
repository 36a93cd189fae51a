using Dashboard.Domain;
using Dashboard.Domain.Images;
using Dashboard.Domain.Policy;

namespace Dashboard.Tests.Policy;

/// <summary>
/// The rules' semantics, table by table. What the dashboard knows about images comes from an in-memory table here (the
/// database-backed lookup is exercised in PolicyApiTests); everything else is the real compiled policy.
/// </summary>
public sealed class PolicyEvaluationTests
{
    private sealed class KnownImages(Dictionary<string, ImageFact> facts) : IImageFacts
    {
        public ValueTask<ImageFact> LookupAsync(ImageReference reference, string? @namespace, CancellationToken ct) =>
            ValueTask.FromResult(facts.GetValueOrDefault(reference.ToString()) ?? ImageFact.Unknown);

        public void Forget()
        {
        }
    }

    private static readonly IImageFacts Nothing = new KnownImages([]);

    /// <summary>Decides with the words (console) and without them (admission's fast path); both must come to the same findings.</summary>
    private static async Task<PolicyDecision> DecideAsync(IReadOnlyList<PolicyRule> rules, string image, string ns = "team-a",
        string resource = PolicyResources.Pods, IImageFacts? facts = null, IReadOnlyList<PolicyExemption>? exemptions = null)
    {
        var policy = PolicyValidator.Compile(rules, exemptions);
        var request = new PolicyRequest(ns, resource, [new CheckedImage(image, "container app")]);
        var explained = await policy.EvaluateAsync(request, facts ?? Nothing);
        var fast = await policy.EvaluateAsync(request, facts ?? Nothing, explain: false);
        Assert.Equal(explained.Violations, fast.Violations);
        Assert.Equal(explained.Warnings, fast.Warnings);
        Assert.Equal(explained.Audits, fast.Audits);
        Assert.Empty(fast.Trace);
        return explained;
    }

    [Theory]
    [InlineData("mysql", false)]
    [InlineData("mysql:8", false)]
    [InlineData("docker.io/mysql", false)]
    [InlineData("index.docker.io/library/mysql:latest", false)]
    [InlineData("registry-1.docker.io/library/mysql@sha256:0000000000000000000000000000000000000000000000000000000000000000", false)]
    [InlineData("mysql-evil", true)]
    [InlineData("library/mysql-evil", true)]
    [InlineData("evil/mysql", true)]
    [InlineData("quay.io/library/mysql", true)]
    public async Task Every_spelling_of_a_docker_hub_image_meets_a_rule_about_it_and_lookalikes_do_not(string image, bool allowed)
    {
        var decision = await DecideAsync([new PolicyRule { Name = "no-mysql", Registries = ["docker.io"], Repositories = ["library/mysql"] }], image);
        Assert.Equal(allowed, decision.Allowed);
    }

    [Theory]
    [InlineData("registry.corp.example.com/team/app:1", true)]
    [InlineData("REGISTRY.corp.example.com/team/app:1", true)]
    [InlineData("registry.corp.example.com.evil.io/team/app:1", false)]
    [InlineData("evil-registry.corp.example.com/team/app:1", false)]
    [InlineData("registry.corp.example.com:5000/team/app:1", false)]
    public async Task A_registry_whitelist_matches_the_whole_host_never_a_part(string image, bool allowed)
    {
        var decision = await DecideAsync([new PolicyRule { Name = "corp-only", Action = RuleAction.Allow, Registries = ["registry.corp.example.com"] }], image);
        Assert.Equal(allowed, decision.Allowed);
        if (!allowed)
        {
            var violation = Assert.Single(decision.Violations);
            Assert.Equal("corp-only", violation.Rule);
            Assert.Equal("it matches no Allow rule; it must match one of: corp-only", violation.Reason);
            Assert.Contains("container app: image", decision.Message);
        }
    }

    [Theory]
    [InlineData("*.corp.example.com", "a.corp.example.com", true)]
    [InlineData("*.corp.example.com", "a.b.corp.example.com", false)]
    [InlineData("**.corp.example.com", "a.b.corp.example.com", true)]
    [InlineData("*.corp.example.com", "corp.example.com", false)]
    public async Task A_star_in_a_registry_pattern_stays_within_one_label(string pattern, string host, bool matches)
    {
        var decision = await DecideAsync([new PolicyRule { Name = "deny", Registries = [pattern] }], $"{host}/team/app:1");
        Assert.Equal(!matches, decision.Allowed);
    }

    [Theory]
    [InlineData("team-a/*", "team-a/app", true)]
    [InlineData("team-a/*", "team-a/sub/app", false)]
    [InlineData("team-a/**", "team-a/sub/app", true)]
    [InlineData("team-a/**", "team-ab/app", false)]
    [InlineData("team-a/app", "team-a/app-evil", false)]
    public async Task A_star_in_a_repository_pattern_stays_within_one_path_component(string pattern, string repository, bool matches)
    {
        var decision = await DecideAsync([new PolicyRule { Name = "deny", Repositories = [pattern] }], $"quay.io/{repository}:1");
        Assert.Equal(!matches, decision.Allowed);
    }

    [Theory]
    [InlineData("latest", true)]
    [InlineData("v1.2", false)]
    [InlineData("latest-arm", false)]
    public async Task A_tag_rule_refuses_exactly_its_tags_and_says_which_pattern_matched(string tag, bool refused)
    {
        var decision = await DecideAsync([new PolicyRule { Name = "no-latest", Tags = ["latest"], Description = "Pin a version." }], $"quay.io/org/app:{tag}");
        Assert.Equal(!refused, decision.Allowed);
        if (refused)
        {
            Assert.Equal("Pin a version. (tag 'latest' matches 'latest')", Assert.Single(decision.Violations).Reason);
        }
    }

    [Fact]
    public async Task With_only_deny_rules_anything_unmatched_is_allowed_and_with_allow_rules_only_what_one_allows()
    {
        PolicyRule deny = new() { Name = "no-latest", Tags = ["latest"] };
        Assert.True((await DecideAsync([deny], "quay.io/org/app:1")).Allowed);

        PolicyRule allowQuay = new() { Name = "quay", Action = RuleAction.Allow, Registries = ["quay.io"] };
        PolicyRule allowGhcr = new() { Name = "ghcr", Action = RuleAction.Allow, Registries = ["ghcr.io"] };
        Assert.True((await DecideAsync([allowQuay, allowGhcr, deny], "ghcr.io/org/app:1")).Allowed);
        var refused = await DecideAsync([allowQuay, allowGhcr, deny], "docker.io/org/app:1");
        Assert.Equal("quay, ghcr", Assert.Single(refused.Violations).Rule);
        // A matching Deny refuses even what an Allow rule allows.
        Assert.Equal("no-latest", Assert.Single((await DecideAsync([allowQuay, deny], "quay.io/org/app:latest")).Violations).Rule);
    }

    [Fact]
    public async Task Warn_rules_warn_and_audit_rules_only_record()
    {
        var decision = await DecideAsync(
        [
            new PolicyRule { Name = "warn-latest", Tags = ["latest"], Enforcement = Enforcement.Warn },
            new PolicyRule { Name = "audit-hub", Registries = ["docker.io"], Enforcement = Enforcement.Audit },
        ], "nginx");

        Assert.True(decision.Allowed);
        Assert.Equal("warn-latest", Assert.Single(decision.Warnings).Rule);
        Assert.Equal("audit-hub", Assert.Single(decision.Audits).Rule);
    }

    [Theory]
    [InlineData("quay.io/org/app:1", false)]
    [InlineData("quay.io/org/app@sha256:1111111111111111111111111111111111111111111111111111111111111111", true)]
    public async Task A_rule_can_ask_for_a_digest(string image, bool allowed)
    {
        var decision = await DecideAsync([new PolicyRule { Name = "by-digest", RequireDigest = false, Description = "Reference images by digest." }], image);
        Assert.Equal(allowed, decision.Allowed);
    }

    [Fact]
    public async Task An_inverted_rule_matches_what_its_conditions_do_not()
    {
        // "Deny anything not from quay.io" written as an inverted Deny.
        PolicyRule rule = new() { Name = "only-quay", Registries = ["quay.io"], Invert = true };
        Assert.True((await DecideAsync([rule], "quay.io/org/app:1")).Allowed);
        Assert.Contains("inverted", Assert.Single((await DecideAsync([rule], "ghcr.io/org/app:1")).Violations).Reason);
    }

    [Fact]
    public async Task Known_image_label_and_annotation_conditions_use_what_the_dashboard_knows()
    {
        var facts = new KnownImages(new Dictionary<string, ImageFact>
        {
            ["quay.io/org/scanned:1"] = new(true, "sha256:aa", new Dictionary<string, string> { ["maintainer"] = "team-a" },
                new Dictionary<string, string> { ["scan.result"] = "passed" }),
            ["quay.io/org/failed:1"] = new(true, "sha256:bb", new Dictionary<string, string>(), new Dictionary<string, string> { ["scan.result"] = "failed" }),
        });
        PolicyRule known = new() { Name = "known-only", RequireKnown = false, Description = "Import it first." };
        Assert.True((await DecideAsync([known], "quay.io/org/scanned:1", facts: facts)).Allowed);
        Assert.Contains("not known to the dashboard", Assert.Single((await DecideAsync([known], "quay.io/org/stranger:1", facts: facts)).Violations).Reason);

        PolicyRule scanned = new()
        {
            Name = "scan-passed", Action = RuleAction.Allow,
            Annotations = [new KeyCondition("scan.result", ConditionOp.Equals, "passed")], Labels = [new KeyCondition("maintainer")],
        };
        Assert.True((await DecideAsync([scanned], "quay.io/org/scanned:1", facts: facts)).Allowed);
        var refused = await DecideAsync([scanned], "quay.io/org/failed:1", facts: facts);
        Assert.False(refused.Allowed);
        Assert.Contains(refused.Trace, t => t.Rule == "scan-passed" && t.Outcome.Contains("label 'maintainer'"));

        PolicyRule noFailed = new() { Name = "no-failed-scans", Annotations = [new KeyCondition("scan.result", ConditionOp.Equals, "failed")] };
        Assert.False((await DecideAsync([noFailed], "quay.io/org/failed:1", facts: facts)).Allowed);
        Assert.True((await DecideAsync([noFailed], "quay.io/org/stranger:1", facts: facts)).Allowed);
    }

    [Fact]
    public async Task Namespace_scopes_resources_disabled_rules_and_exemptions_decide_where_a_rule_applies()
    {
        PolicyRule onlyProd = new() { Name = "prod-no-latest", Tags = ["latest"], Namespaces = new NamespaceScope(NamespaceMode.Only, ["prod"]) };
        Assert.False((await DecideAsync([onlyProd], "nginx", ns: "prod")).Allowed);
        Assert.True((await DecideAsync([onlyProd], "nginx", ns: "dev")).Allowed);

        PolicyRule exceptDev = onlyProd with { Namespaces = new NamespaceScope(NamespaceMode.Except, ["dev"]) };
        Assert.True((await DecideAsync([exceptDev], "nginx", ns: "dev")).Allowed);
        Assert.False((await DecideAsync([exceptDev], "nginx", ns: "qa")).Allowed);

        PolicyRule builds = new() { Name = "builds-only", Tags = ["latest"], Resources = [PolicyResources.Builds] };
        Assert.True((await DecideAsync([builds], "nginx")).Allowed);
        Assert.False((await DecideAsync([builds], "nginx", resource: PolicyResources.Builds)).Allowed);

        Assert.True((await DecideAsync([onlyProd with { Enabled = false }], "nginx", ns: "prod")).Allowed);
        var exempt = await DecideAsync([onlyProd], "nginx", ns: "prod", exemptions: [new PolicyExemption("prod", ["prod-no-latest"])]);
        Assert.True(exempt.Allowed);
        Assert.Contains(exempt.Trace, t => t.Outcome.Contains("exempt"));
    }

    [Theory]
    [InlineData("quay.io/untrusted/app", "rule 'no-untrusted' refuses every image")]
    [InlineData("ghcr.io/org/app", "no Allow rule lets images of ghcr.io/org/app in")]
    [InlineData("quay.io/org/app", null)]
    [InlineData("quay.io/org/tagged", null)]
    public void A_repository_is_refused_before_listing_only_when_no_tag_of_it_could_pass(string repository, string? refusal)
    {
        var policy = PolicyValidator.Compile(
        [
            new PolicyRule { Name = "no-untrusted", Resources = [PolicyResources.Imports], Repositories = ["untrusted/**"] },
            // A tag rule cannot refuse a whole repository: other tags may pass.
            new PolicyRule { Name = "no-latest", Resources = [PolicyResources.Imports], Repositories = ["org/tagged"], Tags = ["latest"] },
            new PolicyRule { Name = "quay-only", Resources = [PolicyResources.Imports], Action = RuleAction.Allow, Registries = ["quay.io"] },
        ]);

        var answer = policy.RefusesWholeRepository("team-a", ImageReference.Parse(repository));

        if (refusal is null)
        {
            Assert.Null(answer);
        }
        else
        {
            Assert.Contains(refusal, answer);
        }
    }

    [Fact]
    public async Task A_reference_that_cannot_be_read_is_refused_with_its_reason()
    {
        var decision = await DecideAsync([], "Not A Reference");
        Assert.Contains("cannot be read", Assert.Single(decision.Violations).Reason);
    }

    [Fact]
    public void A_bad_document_is_refused_whole_naming_the_rule_and_field()
    {
        var e = Assert.Throws<ValidationFailedException>(() => PolicyValidator.Compile(
        [
            new PolicyRule { Name = "ok", Repositories = ["team-a/*"] },
            new PolicyRule { Name = "ok", Repositories = ["team a/app"], Tags = [""], Resources = ["deployments"] },
            new PolicyRule { Name = "Bad_Name", Labels = [new KeyCondition("x", ConditionOp.Equals)], Namespaces = new NamespaceScope(NamespaceMode.Only) },
        ]));

        Assert.Contains("already named", e.Errors["rules[1].name"][0]);
        Assert.Contains("' '", e.Errors["rules[1].repositories[0]"][0]);
        Assert.Contains("empty", e.Errors["rules[1].tags[0]"][0]);
        Assert.Contains("'deployments'", e.Errors["rules[1].resources"][0]);
        Assert.True(e.Errors.ContainsKey("rules[2].name"));
        Assert.Contains("value", e.Errors["rules[2].labels[0].value"][0]);
        Assert.Contains("at least one namespace", e.Errors["rules[2].namespaces.names"][0]);
    }
}
