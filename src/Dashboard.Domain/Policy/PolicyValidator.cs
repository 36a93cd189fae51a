using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Policy.Conditions;

namespace Dashboard.Domain.Policy;

/// <summary>
/// Checks a whole rule document and compiles it; a bad document is refused whole, each problem keyed by rule and field
/// (<c>rules[2].repositories[0]</c>) with a sentence that says why.
/// </summary>
public static class PolicyValidator
{
    /// <summary>The pattern index keeps 1,000 rules within twice the cost of 100 (docs/benchmarks.md); 2,000 leaves room.</summary>
    public const int MaxRules = 2000;

    /// <param name="kinds">The conditions a rule can have: <see cref="ConditionKinds.Standard"/> unless a test adds one.</param>
    public static CompiledPolicy Compile(IReadOnlyList<PolicyRule>? rules, IReadOnlyList<PolicyExemption>? exemptions = null,
        IReadOnlyList<ConditionKind>? kinds = null)
    {
        kinds ??= ConditionKinds.Standard;
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message) => (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(message);

        rules ??= [];
        exemptions ??= [];
        if (rules.Count > MaxRules)
        {
            Add("rules", $"A policy has at most {MaxRules} rules.");
        }

        var compiled = new List<CompiledRule>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var at = $"rules[{i}]";
            if (rule is null)
            {
                Add(at, "A rule may not be null.");
                continue;
            }

            if (NamespaceName.Validate(rule.Name) is { } nameProblem)
            {
                Add($"{at}.name", $"A rule name is a DNS label: {nameProblem}");
            }
            else if (!names.Add(rule.Name))
            {
                Add($"{at}.name", $"Another rule is already named '{rule.Name}'.");
            }

            if (rule.Description?.Length > PolicyRule.MaxDescriptionLength)
            {
                Add($"{at}.description", $"A description has at most {PolicyRule.MaxDescriptionLength} characters.");
            }

            if (rule.Resources is null || rule.Resources.Count == 0)
            {
                Add($"{at}.resources", "Name at least one resource: pods, builds or imports.");
            }
            else if (rule.Resources.FirstOrDefault(r => !PolicyResources.All.Contains(r)) is { } unknown)
            {
                Add($"{at}.resources", $"'{unknown}' is not a resource: use pods, builds or imports.");
            }

            var scope = rule.Namespaces ?? new NamespaceScope();
            if (scope.Mode != NamespaceMode.All && (scope.Names is null || scope.Names.Count == 0))
            {
                Add($"{at}.namespaces.names", $"Mode {scope.Mode} needs at least one namespace name.");
            }

            for (var n = 0; n < (scope.Names?.Count ?? 0); n++)
            {
                if (NamespaceName.Validate(scope.Names![n]) is { } problem)
                {
                    Add($"{at}.namespaces.names[{n}]", problem);
                }
            }

            // Each kind of condition checks its own field and makes its conditions.
            var conditions = kinds.SelectMany(kind => kind.Compile(rule, at, Add)).ToList();
            foreach (var field in rule.More?.Keys ?? [])
            {
                if (!kinds.Any(kind => kind.Field == field))
                {
                    Add($"{at}.{field}", $"'{field}' is not a field of a rule: see the rule fields in the README (registries, repositories, tags, requireDigest, requireKnown, labels, annotations, signedBy…).");
                }
            }

            compiled.Add(new CompiledRule(i, rule, conditions, scope.Names?.ToHashSet(StringComparer.Ordinal) ?? []));
        }

        for (var e = 0; e < exemptions.Count; e++)
        {
            var exemption = exemptions[e];
            if (NamespaceName.Validate(exemption?.Namespace) is { } problem)
            {
                Add($"exemptions[{e}].namespace", problem);
            }

            if (exemption?.Rules is null || exemption.Rules.Count == 0)
            {
                Add($"exemptions[{e}].rules", "Name the rules this namespace is exempt from.");
            }
        }

        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
        }

        return new CompiledPolicy(compiled, rules, exemptions);
    }
}
