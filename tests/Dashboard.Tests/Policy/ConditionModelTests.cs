using System.Text.Json;
using Dashboard.Domain;
using Dashboard.Domain.Images;
using Dashboard.Domain.Policy;
using Dashboard.Domain.Policy.Conditions;

namespace Dashboard.Tests.Policy;

/// <summary>
/// The claim of the condition model: a new condition is one class (with the kind that reads its field), and evaluation,
/// the words, validation, "does it refuse a whole repository" and the rule list's summary all take it without a change.
/// The condition here (the registry's port) exists only in this test project.
/// </summary>
public sealed class ConditionModelTests
{
    private static readonly IReadOnlyList<ConditionKind> WithPort = [.. ConditionKinds.Standard, new RegistryPortKind()];

    private static PolicyRule Rule(string json) => JsonSerializer.Deserialize<PolicyRule>(json, JsonSerializerOptions.Web)!;

    [Fact]
    public async Task A_condition_added_outside_the_product_decides_explains_validates_and_summarises()
    {
        var policy = PolicyValidator.Compile([Rule("""{"name":"no-port-5000","description":"The test registry is not for pods.","resources":["pods","imports"],"registryPort":5000}""")],
            kinds: WithPort);
        var request = new PolicyRequest("shop", PolicyResources.Pods, [new CheckedImage("localhost:5000/app:1", "web"), new CheckedImage("quay.io/app:1", "sidecar")]);

        // The admission path (no words but for findings) and the console's path (every rule explained) agree.
        var fast = await policy.EvaluateAsync(request, NoFacts.Instance, explain: false);
        var explained = await policy.EvaluateAsync(request, NoFacts.Instance, explain: true);

        var violation = Assert.Single(fast.Violations);
        Assert.Equal(("localhost:5000/app:1", "web", "no-port-5000"), (violation.Image, violation.Where, violation.Rule));
        Assert.Equal("The test registry is not for pods. (registry 'localhost:5000' listens on port 5000)", violation.Reason);
        Assert.Equal(fast.Violations, explained.Violations);
        Assert.Contains(explained.Trace, t => t.Image == "quay.io/app:1" && t.Outcome == "does not match: registry 'quay.io' is not on port 5000");
        Assert.Equal(["port 5000"], policy.Summary("no-port-5000"));
        Assert.True(ImageReference.TryParse("localhost:5000/app", out var repository, out _));
        Assert.Equal("rule 'no-port-5000' refuses every image of localhost:5000/app", policy.RefusesWholeRepository("shop", repository!));
    }

    [Fact]
    public void Its_field_is_checked_by_its_kind_and_unknown_to_a_policy_without_it()
    {
        var bad = Assert.Throws<ValidationFailedException>(() => PolicyValidator.Compile([Rule("""{"name":"x","registryPort":"many"}""")], kinds: WithPort));
        Assert.Equal(["A port is a number from 1 to 65535."], bad.Errors["rules[0].registryPort"]);

        var unknown = Assert.Throws<ValidationFailedException>(() => PolicyValidator.Compile([Rule("""{"name":"x","registryPort":5000}""")]));
        Assert.StartsWith("'registryPort' is not a field of a rule", unknown.Errors["rules[0].registryPort"].Single());
    }

    [Fact]
    public void A_misspelt_standard_field_is_refused_instead_of_making_the_rule_match_everything()
    {
        var error = Assert.Throws<ValidationFailedException>(() => PolicyValidator.Compile([Rule("""{"name":"corp","registry":["evil.example.com"]}""")]));
        Assert.True(error.Errors.ContainsKey("rules[0].registry"));
    }

    private sealed class RegistryPortKind : ConditionKind
    {
        public override string Field => "registryPort";

        public override IEnumerable<ImageCondition> Compile(PolicyRule rule, string at, Action<string, string> error)
        {
            if (rule.More?.TryGetValue(Field, out var value) != true)
            {
                return [];
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var port) || port is < 1 or > 65535)
            {
                error($"{at}.{Field}", "A port is a number from 1 to 65535.");
                return [];
            }

            return [new RegistryPortCondition(port)];
        }
    }

    private sealed class RegistryPortCondition(int port) : ImageCondition
    {
        public override string Summary => $"port {port}";

        public override bool Holds(ImageReference image, ImageFact facts) => image.Registry.EndsWith($":{port}", StringComparison.Ordinal);

        public override string Explain(ImageReference image, ImageFact facts, bool held) =>
            held ? $"registry '{image.Registry}' listens on port {port}" : $"registry '{image.Registry}' is not on port {port}";

        public override bool? HoldsForRepository(ImageReference repository) => Holds(repository, ImageFact.Unknown);
    }

    private sealed class NoFacts : IImageFacts
    {
        public static readonly NoFacts Instance = new();

        public ValueTask<ImageFact> LookupAsync(ImageReference reference, string? @namespace, CancellationToken ct) => ValueTask.FromResult(ImageFact.Unknown);

        public void Forget()
        {
        }
    }
}
