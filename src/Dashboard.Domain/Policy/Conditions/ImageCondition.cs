using Dashboard.Domain.Images;

namespace Dashboard.Domain.Policy.Conditions;

/// <summary>
/// One condition of a rule (a pattern over a part of the reference, a digest or known-image requirement, labels…): it
/// decides whether an image with its facts meets it and, only when asked, says why in words. Everything that needs to
/// know conditions (evaluation, the trace, "does this rule need facts", "does it refuse a whole repository", the rule
/// list's summary) asks them; adding one is a class here and its <see cref="ConditionKind"/>.
/// </summary>
public abstract class ImageCondition
{
    /// <summary>Whether the image meets the condition: the admission path asks this of every rule for every image, so no words.</summary>
    public abstract bool Holds(ImageReference image, ImageFact facts);

    /// <summary>Why the condition <paramref name="held"/> or did not, in words a person can act on.</summary>
    public abstract string Explain(ImageReference image, ImageFact facts, bool held);

    /// <summary>Whether <see cref="Holds"/> reads the image's facts (the dashboard's knowledge of it), which then must be looked up.</summary>
    public virtual bool NeedsFacts => false;

    /// <summary>
    /// Whether <see cref="Holds"/> reads which keys signed the image: for imports such a rule is asked once the manifest
    /// and its signatures are fetched, before anything is recorded, not before the fetch.
    /// </summary>
    public virtual bool ReadsSignatures => false;

    /// <summary>
    /// Before a repository's tags are listed: whether every image of <paramref name="repository"/> (any tag, any digest,
    /// any facts) meets the condition (true), none does (false), or that depends on what is not known yet (null).
    /// </summary>
    public virtual bool? HoldsForRepository(ImageReference repository) => null;

    /// <summary>A few words for the rule list (<c>registry a | b</c>, <c>by digest</c>).</summary>
    public abstract string Summary { get; }

    /// <summary>The patterns this condition matches one part of the reference with, for the policy's pattern index; null when it has none.</summary>
    public virtual PatternCondition? AsPattern => null;
}

/// <summary>
/// Reads one field of a rule as the API and the editor name it, checks it (each problem keyed <c>rules[i].field…</c>)
/// and makes its conditions; a rule without the field has none of them.
/// </summary>
public abstract class ConditionKind
{
    /// <summary>The rule's field, e.g. <c>registries</c>.</summary>
    public abstract string Field { get; }

    /// <param name="at">The rule's key in error messages, e.g. <c>rules[2]</c>.</param>
    /// <param name="error">Records a problem under a key and a sentence that says why.</param>
    public abstract IEnumerable<ImageCondition> Compile(PolicyRule rule, string at, Action<string, string> error);
}

/// <summary>The conditions a rule can have, in the order they are checked (and explained).</summary>
public static class ConditionKinds
{
    public static IReadOnlyList<ConditionKind> Standard { get; } =
    [
        new PatternKind("registries", ReferencePart.Registry, r => r.Registries),
        new PatternKind("repositories", ReferencePart.Repository, r => r.Repositories),
        new PatternKind("tags", ReferencePart.Tag, r => r.Tags),
        new DigestKind(),
        new KnownKind(),
        new KeyConditionsKind("labels", "label", r => r.Labels, f => f.Labels),
        new KeyConditionsKind("annotations", "annotation", r => r.Annotations, f => f.Annotations),
        new SignedByKind(),
    ];
}
