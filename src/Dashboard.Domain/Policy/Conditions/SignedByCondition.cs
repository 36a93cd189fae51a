using Dashboard.Domain.Images;
using Dashboard.Domain.Namespaces;

namespace Dashboard.Domain.Policy.Conditions;

/// <summary>
/// <c>signedBy</c> (with <c>signedByMode</c>): a cosign signature verified by any of the named trusted keys, or by every
/// one, must exist. Reads the stored fact only (verified at import, docs/decisions/0017): an image never checked is unsigned.
/// </summary>
public sealed class SignedByCondition(IReadOnlyList<string> keys, SignedByMode mode) : ImageCondition
{
    public IReadOnlyList<string> Keys { get; } = keys;

    public override bool NeedsFacts => true;

    public override bool ReadsSignatures => true;

    public override string Summary => $"signed by {string.Join(mode == SignedByMode.AllOf ? " & " : " | ", Keys)}";

    public override bool Holds(ImageReference image, ImageFact facts)
    {
        var signed = facts.SignedBy ?? [];
        return mode == SignedByMode.AllOf ? Keys.All(signed.Contains) : Keys.Any(signed.Contains);
    }

    public override string Explain(ImageReference image, ImageFact facts, bool held)
    {
        var signed = facts.SignedBy ?? [];
        var by = Keys.Where(signed.Contains).ToList();
        if (held)
        {
            return $"signed by {string.Join(", ", by)}";
        }

        var missing = Keys.Where(k => !signed.Contains(k)).ToList();
        var wanted = mode == SignedByMode.AllOf ? $"all of {string.Join(", ", Keys)}" : string.Join(" or ", Keys);
        return signed.Count == 0
            ? $"no signature by {wanted} (no trusted key verified a signature of it)"
            : $"no signature by {string.Join(", ", missing)} (signed by {string.Join(", ", signed)}; needs {wanted})";
    }
}

internal sealed class SignedByKind : ConditionKind
{
    public override string Field => "signedBy";

    public override IEnumerable<ImageCondition> Compile(PolicyRule rule, string at, Action<string, string> error)
    {
        if (rule.SignedBy is not { Count: > 0 } keys)
        {
            if (rule.SignedByMode is not null)
            {
                error($"{at}.signedByMode", "signedByMode needs signedBy: the trusted keys to ask for.");
            }

            return [];
        }

        if (keys.Count > PolicyRule.MaxPatterns)
        {
            error($"{at}.signedBy", $"At most {PolicyRule.MaxPatterns} keys.");
        }

        for (var k = 0; k < keys.Count; k++)
        {
            if (NamespaceName.Validate(keys[k]) is { } problem)
            {
                error($"{at}.signedBy[{k}]", $"A key name is a DNS label: {problem}");
            }
        }

        return [new SignedByCondition([.. keys.Where(k => k is not null).Distinct()], rule.SignedByMode ?? SignedByMode.AnyOf)];
    }
}
