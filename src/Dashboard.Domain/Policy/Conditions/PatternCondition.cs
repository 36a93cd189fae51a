using Dashboard.Domain.Images;

namespace Dashboard.Domain.Policy.Conditions;

public enum ReferencePart
{
    Registry,
    Repository,
    Tag,
}

/// <summary>The reference's part must match one of the patterns (<c>registries</c>, <c>repositories</c>, <c>tags</c>).</summary>
public sealed class PatternCondition(ReferencePart part, IReadOnlyList<ImagePattern> patterns) : ImageCondition
{
    public ReferencePart Part { get; } = part;

    public IReadOnlyList<ImagePattern> Patterns { get; } = patterns;

    public override PatternCondition AsPattern => this;

    public override string Summary => $"{Word} {string.Join(" | ", Patterns)}";

    private string Word => Part switch
    {
        ReferencePart.Registry => "registry",
        ReferencePart.Repository => "repository",
        _ => "tag",
    };

    public static string ValueOf(ReferencePart part, ImageReference image) => part switch
    {
        ReferencePart.Registry => image.Registry,
        ReferencePart.Repository => image.Repository,
        _ => image.Tag ?? "",
    };

    public override bool Holds(ImageReference image, ImageFact facts)
    {
        var value = ValueOf(Part, image);
        foreach (var pattern in Patterns)
        {
            if (pattern.Matches(value))
            {
                return true;
            }
        }

        return false;
    }

    public override string Explain(ImageReference image, ImageFact facts, bool held)
    {
        var value = ValueOf(Part, image);
        return held
            ? $"{Word} '{value}' matches '{Patterns.First(p => p.Matches(value))}'"
            : $"{Word} '{value}' matches none of {string.Join(", ", Patterns.Select(p => $"'{p}'"))}";
    }

    public override bool? HoldsForRepository(ImageReference repository) => Part == ReferencePart.Tag ? null : Holds(repository, ImageFact.Unknown);
}

internal sealed class PatternKind(string name, ReferencePart part, Func<PolicyRule, IReadOnlyList<string>?> texts) : ConditionKind
{
    private delegate bool TryPattern(string? text, out ImagePattern? pattern, out string? error);

    public override string Field => name;

    public override IEnumerable<ImageCondition> Compile(PolicyRule rule, string at, Action<string, string> error)
    {
        var given = texts(rule);
        if (given is null || given.Count == 0)
        {
            return [];
        }

        if (given.Count > PolicyRule.MaxPatterns)
        {
            error($"{at}.{name}", $"At most {PolicyRule.MaxPatterns} patterns.");
        }

        TryPattern parse = part switch
        {
            ReferencePart.Registry => ImagePattern.TryRegistry,
            ReferencePart.Repository => ImagePattern.TryRepository,
            _ => ImagePattern.TryTag,
        };
        var patterns = new List<ImagePattern>(given.Count);
        for (var p = 0; p < given.Count; p++)
        {
            if (parse(given[p], out var pattern, out var problem))
            {
                patterns.Add(pattern!);
            }
            else
            {
                error($"{at}.{name}[{p}]", problem!);
            }
        }

        return [new PatternCondition(part, patterns)];
    }
}
