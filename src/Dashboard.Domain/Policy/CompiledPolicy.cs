using System.Buffers;
using System.Collections.Concurrent;
using Dashboard.Domain.Images;
using Dashboard.Domain.Policy.Conditions;

namespace Dashboard.Domain.Policy;

/// <summary>
/// One image a workload, build or import uses, and where (a container's name, a build's strategy); <see cref="Path"/> is
/// the JSON pointer of the reference in the admitted object, for digest pinning.
/// </summary>
public sealed record CheckedImage(string Reference, string? Where = null, string? Path = null);

public sealed record PolicyRequest(string Namespace, string Resource, IReadOnlyList<CheckedImage> Images);

/// <summary>A refusal, warning or audit note: which image (and where), which rule, and why in words a person can act on.</summary>
public sealed record PolicyFinding(string Image, string? Where, string Rule, string Reason);

/// <summary>How one rule judged one image, for the "try it" trace.</summary>
public sealed record RuleTrace(string Image, string Rule, string Outcome);

public sealed record PolicyDecision(
    bool Allowed, IReadOnlyList<PolicyFinding> Violations, IReadOnlyList<PolicyFinding> Warnings, IReadOnlyList<PolicyFinding> Audits,
    IReadOnlyList<RuleTrace> Trace)
{
    /// <summary>One line per violation: container, image, rule and reason (the admission response's message).</summary>
    public string Message => string.Join("; ", Violations.Select(v => Describe(v)));

    public static string Describe(PolicyFinding f, string verb = "is refused by") =>
        $"{(f.Where is null ? "" : f.Where + ": ")}image {f.Image} {verb} rule '{f.Rule}': {f.Reason}";
}

/// <summary>What the dashboard knows about an image: whether it is known, its labels and annotations, and which trusted keys signed it.</summary>
/// <param name="LocalRepository">
/// <c>namespace/stream</c> of a stream tag with the <c>Local</c> reference policy that follows this reference: consumers
/// should pull it through the dashboard.
/// </param>
/// <param name="SignedBy">The trusted keys that verified a signature of the image when it was imported or last checked; null or empty: unsigned.</param>
public sealed record ImageFact(bool Known, string? Digest, IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations,
    string? LocalRepository = null, IReadOnlyList<string>? SignedBy = null)
{
    public static readonly ImageFact Unknown = new(false, null, new Dictionary<string, string>(), new Dictionary<string, string>());
}

/// <summary>Answers what the dashboard knows about a reference, from its database through a bounded cache; never calls a registry.</summary>
public interface IImageFacts
{
    /// <summary>
    /// What is known of <paramref name="reference"/> as seen from <paramref name="namespace"/>: its own streams, then the
    /// namespaces shared with the cluster. Null is an admin's view across every namespace (the rule editor's preview).
    /// </summary>
    ValueTask<ImageFact> LookupAsync(ImageReference reference, string? @namespace, CancellationToken ct);

    /// <summary>Forgets what was read, after an import or an annotation changed it, so the next decision sees the change.</summary>
    void Forget();
}

/// <summary>A rule with its conditions (<see cref="ConditionKinds"/>), in the order they are checked and explained.</summary>
internal sealed class CompiledRule
{
    public CompiledRule(int index, PolicyRule rule, IReadOnlyList<ImageCondition> conditions, HashSet<string> namespaces)
    {
        Index = index;
        Rule = rule;
        Conditions = conditions;
        Namespaces = namespaces;
        NeedsFacts = conditions.Any(c => c.NeedsFacts);
        ReadsSignatures = conditions.Any(c => c.ReadsSignatures);
        var indexed = new List<PatternCondition>();
        var others = new List<ImageCondition>();
        foreach (var condition in conditions)
        {
            // One pattern condition per part goes to the index (it marks the part when any of its patterns matches);
            // a second one of the same part is asked directly, so both must hold.
            if (condition.AsPattern is { } pattern && (PatternMask & PartBit(pattern.Part)) == 0)
            {
                PatternMask |= PartBit(pattern.Part);
                indexed.Add(pattern);
            }
            else
            {
                others.Add(condition);
            }
        }

        Indexed = indexed;
        Others = [.. others];
    }

    public int Index { get; }

    public PolicyRule Rule { get; }

    public IReadOnlyList<ImageCondition> Conditions { get; }

    public HashSet<string> Namespaces { get; }

    /// <summary>Whether a condition reads the image's facts, which then must be looked up.</summary>
    public bool NeedsFacts { get; }

    /// <summary>Whether a condition reads which keys signed the image.</summary>
    public bool ReadsSignatures { get; }

    /// <summary>The parts of the reference this rule has patterns for, one bit each: the policy's index answers for them.</summary>
    public byte PatternMask { get; }

    /// <summary>The pattern conditions the policy's index answers for.</summary>
    public IReadOnlyList<PatternCondition> Indexed { get; }

    /// <summary>The conditions the index does not answer for (digest, known, labels…).</summary>
    public ImageCondition[] Others { get; }

    public static byte PartBit(ReferencePart part) => (byte)(1 << (int)part);

    public bool AppliesTo(string @namespace, string resource) =>
        Rule.Enabled && Rule.Resources.Contains(resource) && (Rule.Namespaces?.Mode ?? NamespaceMode.All) switch
        {
            NamespaceMode.Only => Namespaces.Contains(@namespace),
            NamespaceMode.Except => !Namespaces.Contains(@namespace),
            _ => true,
        };

    /// <summary>Whether the rule matches (inverted when it says so), asking every condition; no words.</summary>
    public bool Matches(ImageReference image, ImageFact facts)
    {
        foreach (var condition in Conditions)
        {
            if (!condition.Holds(image, facts))
            {
                return Rule.Invert;
            }
        }

        return !Rule.Invert;
    }

    /// <summary>
    /// The same, when the policy's index already said which of this rule's pattern parts hold (<paramref name="patternHits"/>,
    /// one bit per part): only the other conditions are asked.
    /// </summary>
    public bool Matches(byte patternHits, ImageReference image, ImageFact facts)
    {
        if ((patternHits & PatternMask) != PatternMask)
        {
            return Rule.Invert;
        }

        foreach (var condition in Others)
        {
            if (!condition.Holds(image, facts))
            {
                return Rule.Invert;
            }
        }

        return !Rule.Invert;
    }

    /// <summary>Whether the rule's conditions hold (inverted when the rule says so), and the words that say why.</summary>
    public (bool Matched, string Why) Match(ImageReference image, ImageFact facts)
    {
        var held = new List<string>();
        string? failed = null;
        foreach (var condition in Conditions)
        {
            if (condition.Holds(image, facts))
            {
                held.Add(condition.Explain(image, facts, held: true));
            }
            else
            {
                failed = condition.Explain(image, facts, held: false);
                break;
            }
        }

        var matched = failed is null;
        if (Rule.Invert)
        {
            return matched
                ? (false, $"its conditions hold ({string.Join("; ", held)}) and the rule is inverted")
                : (true, $"not so: {failed} (inverted rule)");
        }

        return matched ? (true, held.Count == 0 ? "it applies to every image" : string.Join("; ", held)) : (false, failed!);
    }
}

/// <summary>
/// The rule document, compiled once per change and evaluated in memory. Semantics as OpenShift's image policy: a
/// matching Deny rule refuses; when Allow rules apply to a request, an image that matches none of them is refused
/// (whitelist); with only Deny rules, anything unmatched is allowed (blacklist). Warn rules warn instead of refusing,
/// Audit rules only record. A namespace may be exempt from named rules.
/// </summary>
public sealed class CompiledPolicy
{
    /// <summary>How many (namespace, resource) pairs keep their applicable rules ready; past it the cache starts over.</summary>
    private const int MaxScopes = 10_000;

    private static readonly ReferencePart[] Parts = [ReferencePart.Registry, ReferencePart.Repository, ReferencePart.Tag];

    private readonly IReadOnlyList<CompiledRule> _rules;
    private readonly Dictionary<string, HashSet<string>> _exemptions;
    private readonly PatternIndex[] _indexes = [new(), new(), new()];
    private readonly ConcurrentDictionary<(string Namespace, string Resource), Scope> _scopes = new();

    internal CompiledPolicy(IReadOnlyList<CompiledRule> rules, IReadOnlyList<PolicyRule> source, IReadOnlyList<PolicyExemption> exemptions)
    {
        _rules = rules;
        Rules = source;
        Exemptions = exemptions;
        _exemptions = exemptions.GroupBy(e => e.Namespace, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.SelectMany(e => e.Rules).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            foreach (var condition in rule.Indexed)
            {
                foreach (var pattern in condition.Patterns)
                {
                    _indexes[(int)condition.Part].Add(pattern, rule.Index);
                }
            }
        }
    }

    public static CompiledPolicy Empty { get; } = PolicyValidator.Compile([]);

    public IReadOnlyList<PolicyRule> Rules { get; }

    public IReadOnlyList<PolicyExemption> Exemptions { get; }

    /// <summary>The rule named <paramref name="rule"/>'s conditions in a few words each (the rule list's "Conditions" column).</summary>
    public IReadOnlyList<string> Summary(string rule) =>
        _rules.FirstOrDefault(r => r.Rule.Name == rule)?.Conditions.Select(c => c.Summary).ToList() ?? [];

    /// <summary>
    /// Decides a request. With <paramref name="explain"/> every rule's outcome is traced in words (the console and the
    /// evaluate API); without it (admission) the pattern index answers for the patterns, the other conditions are asked
    /// only of rules whose patterns hold, and words are made only for the findings, so the hot path stays cheap.
    /// </summary>
    public async Task<PolicyDecision> EvaluateAsync(PolicyRequest request, IImageFacts facts, CancellationToken ct = default, bool explain = true)
    {
        var scope = ScopeOf(request.Namespace, request.Resource);
        List<PolicyFinding>? violations = null, warnings = null, audits = null;
        // The trace is the console's; admission makes none, not even an empty list.
        var trace = explain ? new List<RuleTrace>() : null;
        if (explain)
        {
            var exempt = _exemptions.GetValueOrDefault(request.Namespace);
            var applied = scope.Rules.ToHashSet();
            foreach (var rule in _rules.Where(r => !applied.Contains(r)))
            {
                trace!.Add(new RuleTrace("*", rule.Rule.Name, NotApplicable(rule, request, exempt)));
            }
        }

        var hits = explain ? null : ArrayPool<byte>.Shared.Rent(_rules.Count);
        try
        {
            foreach (var use in request.Images)
            {
                if (!ImageReference.TryParse(use.Reference, out var image, out var error))
                {
                    Add(ref violations, new PolicyFinding(use.Reference, use.Where, "(reference)", $"the reference cannot be read: {error}"));
                    if (explain)
                    {
                        trace!.Add(new RuleTrace(use.Reference, "(reference)", $"refused: {error}"));
                    }

                    continue;
                }

                if (hits is not null)
                {
                    Array.Clear(hits, 0, _rules.Count);
                    foreach (var part in Parts)
                    {
                        var marks = (Hits: hits, Bit: CompiledRule.PartBit(part));
                        _indexes[(int)part].Match(PatternCondition.ValueOf(part, image), part == ReferencePart.Registry, ref marks,
                            static (ref (byte[] Hits, byte Bit) marks, int rule) => marks.Hits[rule] |= marks.Bit);
                    }
                }

                var fact = scope.NeedsFacts ? await facts.LookupAsync(image, request.Namespace, ct) : ImageFact.Unknown;
                var shown = explain ? image.ToString() : null;
                // Which enforcements' Allow rules let this image in, one bit each.
                var allowedBy = 0;
                foreach (var rule in scope.Rules)
                {
                    var r = rule.Rule;
                    var matched = hits is null ? rule.Matches(image, fact) : rule.Matches(hits[rule.Index], image, fact);
                    if (r.Action == RuleAction.Allow)
                    {
                        allowedBy |= matched ? 1 << (int)r.Enforcement : 0;
                        if (explain)
                        {
                            var why = rule.Match(image, fact).Why;
                            trace!.Add(new RuleTrace(shown!, r.Name, matched ? $"allows: {why}" : $"does not match: {why}"));
                        }

                        continue;
                    }

                    if (!matched)
                    {
                        if (explain)
                        {
                            trace!.Add(new RuleTrace(shown!, r.Name, $"does not match: {rule.Match(image, fact).Why}"));
                        }

                        continue;
                    }

                    // Words only where someone reads them: the trace, and a Deny rule's finding.
                    var reason = rule.Match(image, fact).Why;
                    shown ??= image.ToString();
                    Add(ref Findings(r.Enforcement, ref violations, ref warnings, ref audits), new PolicyFinding(shown, use.Where, r.Name, Reason(r, reason)));
                    if (explain)
                    {
                        trace!.Add(new RuleTrace(shown, r.Name, $"{Verb(r.Enforcement)}: {reason}"));
                    }
                }

                // Whitelist: Allow rules of an enforcement apply, and none of them matched this image.
                foreach (var (enforcement, rules) in scope.AllowRules)
                {
                    if ((allowedBy & (1 << (int)enforcement)) != 0)
                    {
                        continue;
                    }

                    shown ??= image.ToString();
                    var names = string.Join(", ", rules.Select(r => r.Name));
                    var finding = new PolicyFinding(shown, use.Where, names, "it matches no Allow rule; it must match one of: "
                        + string.Join("; ", rules.Select(r => string.IsNullOrWhiteSpace(r.Description) ? r.Name : $"{r.Name} ({r.Description.Trim()})")));
                    Add(ref Findings(enforcement, ref violations, ref warnings, ref audits), finding);
                    if (explain)
                    {
                        trace!.Add(new RuleTrace(shown, names, $"{Verb(enforcement)}: matches no Allow rule"));
                    }
                }
            }
        }
        finally
        {
            if (hits is not null)
            {
                ArrayPool<byte>.Shared.Return(hits);
            }
        }

        return new PolicyDecision(violations is null, violations ?? [], warnings ?? [], audits ?? [], (IReadOnlyList<RuleTrace>?)trace ?? []);
    }

    /// <summary>
    /// Whether a rule that applies to <paramref name="namespace"/> and <paramref name="resource"/> reads signatures: an
    /// import is then judged once its signatures are fetched (<see cref="EvaluateAsync"/> with the fetched facts).
    /// </summary>
    public bool ReadsSignatures(string @namespace, string resource) => ScopeOf(@namespace, resource).Rules.Any(r => r.ReadsSignatures);

    /// <summary>The trusted keys the rules name in <c>signedBy</c>, with the names of the rules that name each.</summary>
    public ILookup<string, string> KeysNamed() =>
        Rules.SelectMany(r => (r.SignedBy ?? []).Select(k => (Key: k, Rule: r.Name))).Distinct().ToLookup(x => x.Key, x => x.Rule, StringComparer.Ordinal);

    /// <summary>Whether the rule named <paramref name="rule"/> matches the image (its conditions only: no scope, no action).</summary>
    public bool RuleMatches(string rule, ImageReference image, ImageFact fact) =>
        _rules.FirstOrDefault(r => r.Rule.Name == rule)?.Matches(image, fact) ?? false;

    /// <summary>
    /// Before a repository's tags are listed: the rule that refuses every tag of it for <c>imports</c> in
    /// <paramref name="namespace"/>, or null when some tag could pass (each tag is still checked when it is imported).
    /// Each condition says whether it holds for every image of the repository, for none, or cannot tell yet.
    /// </summary>
    public string? RefusesWholeRepository(string @namespace, ImageReference repository)
    {
        var applicable = ScopeOf(@namespace, PolicyResources.Imports).Rules.Where(r => r.Rule.Enforcement == Enforcement.Enforce).ToList();
        foreach (var rule in applicable.Where(r => r.Rule.Action == RuleAction.Deny && !r.Rule.Invert
            && r.Conditions.All(c => c.HoldsForRepository(repository) == true)))
        {
            return $"rule '{rule.Rule.Name}' refuses every image of {repository.Registry}/{repository.Repository}";
        }

        var allows = applicable.Where(r => r.Rule.Action == RuleAction.Allow).ToList();
        bool CouldMatch(CompiledRule r) => r.Rule.Invert || r.Conditions.All(c => c.HoldsForRepository(repository) != false);
        return allows.Count > 0 && !allows.Any(CouldMatch)
            ? $"no Allow rule lets images of {repository.Registry}/{repository.Repository} in (it must match one of: {string.Join(", ", allows.Select(a => a.Rule.Name))})"
            : null;
    }

    /// <summary>The rules that apply to a namespace and resource (enabled, in scope, not exempt), kept per pair.</summary>
    private Scope ScopeOf(string @namespace, string resource)
    {
        if (_scopes.TryGetValue((@namespace, resource), out var scope))
        {
            return scope;
        }

        var exempt = _exemptions.GetValueOrDefault(@namespace);
        var rules = _rules.Where(r => r.AppliesTo(@namespace, resource) && exempt?.Contains(r.Rule.Name) != true).ToArray();
        scope = new Scope(rules, rules.Any(r => r.NeedsFacts),
            [.. rules.Where(r => r.Rule.Action == RuleAction.Allow).GroupBy(r => r.Rule.Enforcement).Select(g => (g.Key, (IReadOnlyList<PolicyRule>)[.. g.Select(r => r.Rule)]))]);
        if (_scopes.Count >= MaxScopes)
        {
            _scopes.Clear();
        }

        _scopes.TryAdd((@namespace, resource), scope);
        return scope;
    }

    private sealed record Scope(CompiledRule[] Rules, bool NeedsFacts, (Enforcement Enforcement, IReadOnlyList<PolicyRule> Rules)[] AllowRules);

    private static ref List<PolicyFinding>? Findings(Enforcement enforcement, ref List<PolicyFinding>? violations, ref List<PolicyFinding>? warnings,
        ref List<PolicyFinding>? audits)
    {
        if (enforcement == Enforcement.Enforce)
        {
            return ref violations;
        }

        if (enforcement == Enforcement.Warn)
        {
            return ref warnings;
        }

        return ref audits;
    }

    private static void Add(ref List<PolicyFinding>? findings, PolicyFinding finding) => (findings ??= []).Add(finding);

    private static string Verb(Enforcement enforcement) => enforcement switch
    {
        Enforcement.Enforce => "refuses",
        Enforcement.Warn => "warns",
        _ => "records",
    };

    private static string Reason(PolicyRule rule, string why) =>
        string.IsNullOrWhiteSpace(rule.Description) ? why : $"{rule.Description.Trim()} ({why})";

    private static string NotApplicable(CompiledRule rule, PolicyRequest request, HashSet<string>? exempt) =>
        !rule.Rule.Enabled ? "not applied: disabled"
        : !rule.Rule.Resources.Contains(request.Resource) ? $"not applied: not for {request.Resource}"
        : exempt?.Contains(rule.Rule.Name) == true ? $"not applied: namespace {request.Namespace} is exempt"
        : $"not applied: namespace {request.Namespace} is out of its scope";
}
