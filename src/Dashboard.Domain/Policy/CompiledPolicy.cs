using Dashboard.Domain.Images;

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

/// <summary>What the dashboard knows about an image: whether it is known, and its labels and annotations.</summary>
/// <param name="LocalRepository">
/// <c>namespace/stream</c> of a stream tag with the <c>Local</c> reference policy that follows this reference: consumers
/// should pull it through the dashboard.
/// </param>
public sealed record ImageFact(bool Known, string? Digest, IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations,
    string? LocalRepository = null)
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

internal sealed record CompiledRule(int Index, PolicyRule Rule, IReadOnlyList<ImagePattern>? Registries, IReadOnlyList<ImagePattern>? Repositories,
    IReadOnlyList<ImagePattern>? Tags, HashSet<string> Namespaces)
{
    public bool NeedsFacts => Rule.RequireKnown is not null || Rule.Labels is { Count: > 0 } || Rule.Annotations is { Count: > 0 };

    public bool AppliesTo(PolicyRequest request) =>
        Rule.Enabled && Rule.Resources.Contains(request.Resource) && (Rule.Namespaces?.Mode ?? NamespaceMode.All) switch
        {
            NamespaceMode.Only => Namespaces.Contains(request.Namespace),
            NamespaceMode.Except => !Namespaces.Contains(request.Namespace),
            _ => true,
        };

    /// <summary>Whether the rule matches, without the words: the admission path asks this of every rule for every image.</summary>
    public bool Matches(ImageReference image, ImageFact facts)
    {
        var holds = Any(Registries, image.Registry) && Any(Repositories, image.Repository) && (Tags is null || Any(Tags, image.Tag ?? ""))
            && (Rule.RequireDigest is not { } digest || (image.Digest is not null) == digest)
            && (Rule.RequireKnown is not { } known || facts.Known == known)
            && Holds(Rule.Labels, facts.Labels) && Holds(Rule.Annotations, facts.Annotations);
        return holds != Rule.Invert;

        static bool Any(IReadOnlyList<ImagePattern>? patterns, string value)
        {
            if (patterns is null)
            {
                return true;
            }

            foreach (var pattern in patterns)
            {
                if (pattern.Matches(value))
                {
                    return true;
                }
            }

            return false;
        }

        static bool Holds(IReadOnlyList<KeyCondition>? conditions, IReadOnlyDictionary<string, string> values) =>
            conditions is null || conditions.All(c => c.Op switch
            {
                ConditionOp.Exists => values.ContainsKey(c.Key),
                ConditionOp.NotExists => !values.ContainsKey(c.Key),
                _ => values.TryGetValue(c.Key, out var v) && v == c.Value,
            });
    }

    /// <summary>Whether the rule's conditions hold (inverted when the rule says so), and the words that say why.</summary>
    public (bool Matched, string Why) Match(ImageReference image, ImageFact facts)
    {
        var held = new List<string>();
        string? failed = null;
        Check(Registries, image.Registry, "registry");
        Check(Repositories, image.Repository, "repository");
        if (failed is null && Tags is not null)
        {
            Check(Tags, image.Tag ?? "", "tag");
        }

        if (failed is null && Rule.RequireDigest is { } digest)
        {
            if ((image.Digest is not null) == digest)
            {
                held.Add(digest ? "it is referenced by digest" : "it is referenced by tag, not digest");
            }
            else
            {
                failed = digest ? "it is referenced by tag, not by digest" : "it is referenced by digest";
            }
        }

        if (failed is null && Rule.RequireKnown is { } known)
        {
            if (facts.Known == known)
            {
                held.Add(known ? "the dashboard knows it" : "it is not known to the dashboard (imported or referenced by no image stream)");
            }
            else
            {
                failed = known ? "it is not known to the dashboard (imported or referenced by no image stream)" : "the dashboard knows it";
            }
        }

        KeyConditions(Rule.Labels, facts.Labels, "label");
        KeyConditions(Rule.Annotations, facts.Annotations, "annotation");

        var matched = failed is null;
        if (Rule.Invert)
        {
            return matched
                ? (false, $"its conditions hold ({string.Join("; ", held)}) and the rule is inverted")
                : (true, $"not so: {failed} (inverted rule)");
        }

        return matched ? (true, held.Count == 0 ? "it applies to every image" : string.Join("; ", held)) : (false, failed!);

        void Check(IReadOnlyList<ImagePattern>? patterns, string value, string what)
        {
            if (failed is not null || patterns is null)
            {
                return;
            }

            var hit = patterns.FirstOrDefault(p => p.Matches(value));
            if (hit is not null)
            {
                held.Add($"{what} '{value}' matches '{hit}'");
            }
            else
            {
                failed = $"{what} '{value}' matches none of {string.Join(", ", patterns.Select(p => $"'{p}'"))}";
            }
        }

        void KeyConditions(IReadOnlyList<KeyCondition>? conditions, IReadOnlyDictionary<string, string> values, string what)
        {
            foreach (var condition in conditions ?? [])
            {
                if (failed is not null)
                {
                    return;
                }

                var present = values.TryGetValue(condition.Key, out var value);
                var holds = condition.Op switch
                {
                    ConditionOp.Exists => present,
                    ConditionOp.NotExists => !present,
                    _ => present && value == condition.Value,
                };
                var text = condition.Op switch
                {
                    ConditionOp.Exists => $"{what} '{condition.Key}' is set",
                    ConditionOp.NotExists => $"{what} '{condition.Key}' is not set",
                    _ => $"{what} '{condition.Key}' is '{condition.Value}'",
                };
                if (holds)
                {
                    held.Add(text);
                }
                else
                {
                    failed = condition.Op == ConditionOp.Equals && present ? $"{what} '{condition.Key}' is '{value}', not '{condition.Value}'" : $"not so: {text}";
                }
            }
        }
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
    private readonly IReadOnlyList<CompiledRule> _rules;
    private readonly Dictionary<string, HashSet<string>> _exemptions;

    internal CompiledPolicy(IReadOnlyList<CompiledRule> rules, IReadOnlyList<PolicyRule> source, IReadOnlyList<PolicyExemption> exemptions)
    {
        _rules = rules;
        Rules = source;
        Exemptions = exemptions;
        _exemptions = exemptions.GroupBy(e => e.Namespace, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.SelectMany(e => e.Rules).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
    }

    public static CompiledPolicy Empty { get; } = PolicyValidator.Compile([]);

    public IReadOnlyList<PolicyRule> Rules { get; }

    public IReadOnlyList<PolicyExemption> Exemptions { get; }

    /// <summary>
    /// Decides a request. With <paramref name="explain"/> every rule's outcome is traced in words (the console and the
    /// evaluate API); without it (admission) words are made only for the findings, so the hot path stays cheap.
    /// </summary>
    public async Task<PolicyDecision> EvaluateAsync(PolicyRequest request, IImageFacts facts, CancellationToken ct = default, bool explain = true)
    {
        var exempt = _exemptions.GetValueOrDefault(request.Namespace);
        var applicable = _rules.Where(r => r.AppliesTo(request) && exempt?.Contains(r.Rule.Name) != true).ToList();
        var needFacts = applicable.Any(r => r.NeedsFacts);
        var violations = new List<PolicyFinding>();
        var warnings = new List<PolicyFinding>();
        var audits = new List<PolicyFinding>();
        var trace = new List<RuleTrace>();
        if (explain)
        {
            var applied = applicable.ToHashSet();
            foreach (var rule in _rules.Where(r => !applied.Contains(r)))
            {
                trace.Add(new RuleTrace("*", rule.Rule.Name, NotApplicable(rule, request, exempt)));
            }
        }

        foreach (var use in request.Images)
        {
            if (!ImageReference.TryParse(use.Reference, out var image, out var error))
            {
                violations.Add(new PolicyFinding(use.Reference, use.Where, "(reference)", $"the reference cannot be read: {error}"));
                if (explain)
                {
                    trace.Add(new RuleTrace(use.Reference, "(reference)", $"refused: {error}"));
                }

                continue;
            }

            var fact = needFacts ? await facts.LookupAsync(image, request.Namespace, ct) : ImageFact.Unknown;
            var shown = image.ToString();
            var allowRules = new Dictionary<Enforcement, List<PolicyRule>>();
            var allowed = new HashSet<Enforcement>();
            foreach (var rule in applicable)
            {
                var r = rule.Rule;
                var matched = rule.Matches(image, fact);
                // Words only where someone reads them: the trace, and a Deny rule's finding.
                var why = explain || (matched && r.Action == RuleAction.Deny) ? rule.Match(image, fact).Why : "";
                if (r.Action == RuleAction.Allow)
                {
                    (allowRules.TryGetValue(r.Enforcement, out var list) ? list : allowRules[r.Enforcement] = []).Add(r);
                    if (matched)
                    {
                        allowed.Add(r.Enforcement);
                    }

                    if (explain)
                    {
                        trace.Add(new RuleTrace(shown, r.Name, matched ? $"allows: {why}" : $"does not match: {why}"));
                    }

                    continue;
                }

                if (!matched)
                {
                    if (explain)
                    {
                        trace.Add(new RuleTrace(shown, r.Name, $"does not match: {why}"));
                    }

                    continue;
                }

                var finding = new PolicyFinding(shown, use.Where, r.Name, Reason(r, why));
                (r.Enforcement switch { Enforcement.Enforce => violations, Enforcement.Warn => warnings, _ => audits }).Add(finding);
                if (explain)
                {
                    trace.Add(new RuleTrace(shown, r.Name, $"{Verb(r.Enforcement)}: {why}"));
                }
            }

            // Whitelist: Allow rules of an enforcement apply, and none of them matched this image.
            foreach (var (enforcement, rules) in allowRules.Where(a => !allowed.Contains(a.Key)))
            {
                var names = string.Join(", ", rules.Select(r => r.Name));
                var finding = new PolicyFinding(shown, use.Where, names, "it matches no Allow rule; it must match one of: "
                    + string.Join("; ", rules.Select(r => string.IsNullOrWhiteSpace(r.Description) ? r.Name : $"{r.Name} ({r.Description.Trim()})")));
                (enforcement switch { Enforcement.Enforce => violations, Enforcement.Warn => warnings, _ => audits }).Add(finding);
                if (explain)
                {
                    trace.Add(new RuleTrace(shown, names, $"{Verb(enforcement)}: matches no Allow rule"));
                }
            }
        }

        return new PolicyDecision(violations.Count == 0, violations, warnings, audits, trace);
    }

    /// <summary>Whether the rule named <paramref name="rule"/> matches the image (its conditions only: no scope, no action).</summary>
    public bool RuleMatches(string rule, ImageReference image, ImageFact fact) =>
        _rules.FirstOrDefault(r => r.Rule.Name == rule)?.Matches(image, fact) ?? false;

    /// <summary>
    /// Before a repository's tags are listed: the rule that refuses every tag of it for <c>imports</c> in
    /// <paramref name="namespace"/>, or null when some tag could pass (each tag is still checked when it is imported).
    /// </summary>
    public string? RefusesWholeRepository(string @namespace, ImageReference repository)
    {
        var exempt = _exemptions.GetValueOrDefault(@namespace);
        var request = new PolicyRequest(@namespace, PolicyResources.Imports, []);
        var applicable = _rules.Where(r => r.AppliesTo(request) && r.Rule.Enforcement == Enforcement.Enforce && exempt?.Contains(r.Rule.Name) != true).ToList();
        foreach (var rule in applicable.Where(r => r.Rule.Action == RuleAction.Deny && !r.Rule.Invert && r.Tags is null && r.Rule.RequireDigest is null
            && !r.NeedsFacts && r.Matches(repository, ImageFact.Unknown)))
        {
            return $"rule '{rule.Rule.Name}' refuses every image of {repository.Registry}/{repository.Repository}";
        }

        var allows = applicable.Where(r => r.Rule.Action == RuleAction.Allow).ToList();
        bool CouldMatch(CompiledRule r) => r.Rule.Invert
            || ((r.Registries?.Any(p => p.Matches(repository.Registry)) ?? true) && (r.Repositories?.Any(p => p.Matches(repository.Repository)) ?? true));
        return allows.Count > 0 && !allows.Any(CouldMatch)
            ? $"no Allow rule lets images of {repository.Registry}/{repository.Repository} in (it must match one of: {string.Join(", ", allows.Select(a => a.Rule.Name))})"
            : null;
    }

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
