using Dashboard.Domain.Namespaces;

namespace Dashboard.Domain.Policy;

/// <summary>
/// Checks a whole rule document and compiles it; a bad document is refused whole, each problem keyed by rule and field
/// (<c>rules[2].repositories[0]</c>) with a sentence that says why.
/// </summary>
public static class PolicyValidator
{
    public const int MaxRules = 500;

    public static CompiledPolicy Compile(IReadOnlyList<PolicyRule>? rules, IReadOnlyList<PolicyExemption>? exemptions = null)
    {
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

            var registries = Patterns(rule.Registries, $"{at}.registries", ImagePattern.TryRegistry, Add);
            var repositories = Patterns(rule.Repositories, $"{at}.repositories", ImagePattern.TryRepository, Add);
            var tags = Patterns(rule.Tags, $"{at}.tags", ImagePattern.TryTag, Add);
            Conditions(rule.Labels, $"{at}.labels", Add);
            Conditions(rule.Annotations, $"{at}.annotations", Add);
            compiled.Add(new CompiledRule(i, rule, registries, repositories, tags,
                scope.Names?.ToHashSet(StringComparer.Ordinal) ?? []));
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

    private delegate bool TryPattern(string? text, out ImagePattern? pattern, out string? error);

    private static IReadOnlyList<ImagePattern>? Patterns(IReadOnlyList<string>? texts, string at, TryPattern parse, Action<string, string> add)
    {
        if (texts is null)
        {
            return null;
        }

        if (texts.Count > PolicyRule.MaxPatterns)
        {
            add(at, $"At most {PolicyRule.MaxPatterns} patterns.");
        }

        var patterns = new List<ImagePattern>();
        for (var p = 0; p < texts.Count; p++)
        {
            if (parse(texts[p], out var pattern, out var error))
            {
                patterns.Add(pattern!);
            }
            else
            {
                add($"{at}[{p}]", error!);
            }
        }

        return patterns.Count == 0 && texts.Count == 0 ? null : patterns;
    }

    private static void Conditions(IReadOnlyList<KeyCondition>? conditions, string at, Action<string, string> add)
    {
        for (var c = 0; c < (conditions?.Count ?? 0); c++)
        {
            var condition = conditions![c];
            if (string.IsNullOrWhiteSpace(condition?.Key) || condition.Key.Length > 253)
            {
                add($"{at}[{c}].key", "A key of 1 to 253 characters is required.");
            }

            if (condition?.Op == ConditionOp.Equals && condition.Value is null)
            {
                add($"{at}[{c}].value", "Equals needs a value to compare with.");
            }
        }
    }
}
