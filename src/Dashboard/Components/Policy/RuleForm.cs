using Dashboard.Domain.Policy;

namespace Dashboard.Components.Policy;

/// <summary>
/// A rule as the editor's fields hold it: lists as text, one item per line or comma; labels and annotations as lines of
/// <c>key</c> (present), <c>!key</c> (absent) or <c>key=value</c>.
/// </summary>
public sealed class RuleForm
{
    public string Name { get; set; } = "";

    public string? Description { get; set; }

    public bool Enabled { get; set; } = true;

    public RuleAction Action { get; set; } = RuleAction.Deny;

    public Enforcement Enforcement { get; set; } = Enforcement.Enforce;

    public IEnumerable<string> Resources { get; set; } = [PolicyResources.Pods];

    public NamespaceMode NamespaceMode { get; set; }

    public string? Namespaces { get; set; }

    public string? Registries { get; set; }

    public string? Repositories { get; set; }

    public string? Tags { get; set; }

    /// <summary>"any", "digest" (must be by digest) or "tag" (must be by tag).</summary>
    public string Digest { get; set; } = "any";

    /// <summary>"any", "known" or "unknown".</summary>
    public string Known { get; set; } = "any";

    public string? Labels { get; set; }

    public string? Annotations { get; set; }

    /// <summary>Trusted key names, one per line or comma.</summary>
    public string? SignedBy { get; set; }

    public SignedByMode SignedByMode { get; set; }

    public bool Invert { get; set; }

    public static RuleForm From(PolicyRule rule) => new()
    {
        Name = rule.Name,
        Description = rule.Description,
        Enabled = rule.Enabled,
        Action = rule.Action,
        Enforcement = rule.Enforcement,
        Resources = rule.Resources,
        NamespaceMode = rule.Namespaces?.Mode ?? NamespaceMode.All,
        Namespaces = Join(rule.Namespaces?.Names),
        Registries = Join(rule.Registries),
        Repositories = Join(rule.Repositories),
        Tags = Join(rule.Tags),
        Digest = rule.RequireDigest switch { true => "digest", false => "tag", _ => "any" },
        Known = rule.RequireKnown switch { true => "known", false => "unknown", _ => "any" },
        Labels = Conditions(rule.Labels),
        Annotations = Conditions(rule.Annotations),
        SignedBy = Join(rule.SignedBy),
        SignedByMode = rule.SignedByMode ?? SignedByMode.AnyOf,
        Invert = rule.Invert,
    };

    public PolicyRule ToRule() => new()
    {
        Name = Name.Trim(),
        Description = string.IsNullOrWhiteSpace(Description) ? null : Description.Trim(),
        Enabled = Enabled,
        Action = Action,
        Enforcement = Enforcement,
        Resources = [.. Resources],
        Namespaces = new NamespaceScope(NamespaceMode, NamespaceMode == NamespaceMode.All ? null : Split(Namespaces)),
        Registries = Split(Registries),
        Repositories = Split(Repositories),
        Tags = Split(Tags),
        RequireDigest = Digest switch { "digest" => true, "tag" => false, _ => null },
        RequireKnown = Known switch { "known" => true, "unknown" => false, _ => null },
        Labels = ParseConditions(Labels),
        Annotations = ParseConditions(Annotations),
        SignedBy = Split(SignedBy),
        // AnyOf is the default: only AllOf is written, so a rule reads back as it was given.
        SignedByMode = Split(SignedBy) is not null && SignedByMode == SignedByMode.AllOf ? SignedByMode.AllOf : null,
        Invert = Invert,
    };

    /// <summary>Where a validation problem of <c>rules[i].…</c> belongs in this form.</summary>
    public static string FieldOf(string key)
    {
        var dot = key.IndexOf("].", StringComparison.Ordinal);
        var field = dot < 0 ? key : key[(dot + 2)..];
        var bracket = field.IndexOf('[');
        var head = bracket < 0 ? field : field[..bracket];
        return head.StartsWith("namespaces", StringComparison.Ordinal) ? "namespaces" : head;
    }

    private static IReadOnlyList<string>? Split(string? text)
    {
        var items = (text ?? "").Split(['\n', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return items.Length == 0 ? null : items;
    }

    private static string? Join(IReadOnlyList<string>? items) => items is null ? null : string.Join("\n", items);

    private static string? Conditions(IReadOnlyList<KeyCondition>? conditions) => conditions is null ? null : string.Join("\n", conditions.Select(c => c.Op switch
    {
        ConditionOp.NotExists => "!" + c.Key,
        ConditionOp.Equals => $"{c.Key}={c.Value}",
        _ => c.Key,
    }));

    private static IReadOnlyList<KeyCondition>? ParseConditions(string? text)
    {
        var lines = (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? null : [.. lines.Select(line => line switch
        {
            _ when line.StartsWith('!') => new KeyCondition(line[1..].Trim(), ConditionOp.NotExists),
            _ when line.Contains('=') => new KeyCondition(line[..line.IndexOf('=')].Trim(), ConditionOp.Equals, line[(line.IndexOf('=') + 1)..].Trim()),
            _ => new KeyCondition(line, ConditionOp.Exists),
        })];
    }
}
