using Dashboard.Domain.Images;

namespace Dashboard.Domain.Policy.Conditions;

/// <summary><c>requireDigest</c>: the reference must name a digest (true) or must not (false).</summary>
public sealed class DigestCondition(bool digest) : ImageCondition
{
    public override string Summary => digest ? "by digest" : "by tag";

    public override bool Holds(ImageReference image, ImageFact facts) => (image.Digest is not null) == digest;

    public override string Explain(ImageReference image, ImageFact facts, bool held) => (held, digest) switch
    {
        (true, true) => "it is referenced by digest",
        (true, false) => "it is referenced by tag, not digest",
        (false, true) => "it is referenced by tag, not by digest",
        _ => "it is referenced by digest",
    };
}

internal sealed class DigestKind : ConditionKind
{
    public override string Field => "requireDigest";

    public override IEnumerable<ImageCondition> Compile(PolicyRule rule, string at, Action<string, string> error) =>
        rule.RequireDigest is { } digest ? [new DigestCondition(digest)] : [];
}

/// <summary><c>requireKnown</c>: the dashboard must know the image (an image stream imported or refers to it), or must not.</summary>
public sealed class KnownCondition(bool known) : ImageCondition
{
    private const string Knows = "the dashboard knows it";
    private const string DoesNotKnow = "it is not known to the dashboard (imported or referenced by no image stream)";

    public override bool NeedsFacts => true;

    public override string Summary => known ? "known" : "not known";

    public override bool Holds(ImageReference image, ImageFact facts) => facts.Known == known;

    public override string Explain(ImageReference image, ImageFact facts, bool held) => held == known ? Knows : DoesNotKnow;
}

internal sealed class KnownKind : ConditionKind
{
    public override string Field => "requireKnown";

    public override IEnumerable<ImageCondition> Compile(PolicyRule rule, string at, Action<string, string> error) =>
        rule.RequireKnown is { } known ? [new KnownCondition(known)] : [];
}

/// <summary>
/// <c>labels</c> / <c>annotations</c>: each key present, absent or equal to a value, all of them; the words name the
/// first that fails, or every one that holds.
/// </summary>
public sealed class KeyConditionsCondition(string what, IReadOnlyList<KeyCondition> conditions, Func<ImageFact, IReadOnlyDictionary<string, string>> values)
    : ImageCondition
{
    public override bool NeedsFacts => true;

    public override string Summary => $"{what}s {string.Join(", ", conditions.Select(c => c.Key))}";

    public override bool Holds(ImageReference image, ImageFact facts)
    {
        var set = values(facts);
        foreach (var condition in conditions)
        {
            if (!Holds(condition, set, out _))
            {
                return false;
            }
        }

        return true;
    }

    public override string Explain(ImageReference image, ImageFact facts, bool held)
    {
        var set = values(facts);
        var texts = new List<string>(conditions.Count);
        foreach (var condition in conditions)
        {
            var text = condition.Op switch
            {
                ConditionOp.Exists => $"{what} '{condition.Key}' is set",
                ConditionOp.NotExists => $"{what} '{condition.Key}' is not set",
                _ => $"{what} '{condition.Key}' is '{condition.Value}'",
            };
            if (!Holds(condition, set, out var actual))
            {
                return condition.Op == ConditionOp.Equals && actual is not null
                    ? $"{what} '{condition.Key}' is '{actual}', not '{condition.Value}'"
                    : $"not so: {text}";
            }

            texts.Add(text);
        }

        return string.Join("; ", texts);
    }

    private static bool Holds(KeyCondition condition, IReadOnlyDictionary<string, string> set, out string? actual)
    {
        var present = set.TryGetValue(condition.Key, out actual);
        return condition.Op switch
        {
            ConditionOp.Exists => present,
            ConditionOp.NotExists => !present,
            _ => present && actual == condition.Value,
        };
    }
}

internal sealed class KeyConditionsKind(string name, string what, Func<PolicyRule, IReadOnlyList<KeyCondition>?> read,
    Func<ImageFact, IReadOnlyDictionary<string, string>> values) : ConditionKind
{
    public override string Field => name;

    public override IEnumerable<ImageCondition> Compile(PolicyRule rule, string at, Action<string, string> error)
    {
        var conditions = read(rule);
        if (conditions is null || conditions.Count == 0)
        {
            return [];
        }

        for (var c = 0; c < conditions.Count; c++)
        {
            var condition = conditions[c];
            if (string.IsNullOrWhiteSpace(condition?.Key) || condition.Key.Length > 253)
            {
                error($"{at}.{name}[{c}].key", "A key of 1 to 253 characters is required.");
            }

            if (condition?.Op == ConditionOp.Equals && condition.Value is null)
            {
                error($"{at}.{name}[{c}].value", "Equals needs a value to compare with.");
            }
        }

        return [new KeyConditionsCondition(what, [.. conditions.Where(c => c is not null)], values)];
    }
}
