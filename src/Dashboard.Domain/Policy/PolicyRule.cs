using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dashboard.Domain.Policy;

[JsonConverter(typeof(JsonStringEnumConverter<RuleAction>))]
public enum RuleAction
{
    Allow,
    Deny,
}

/// <summary>What a matching rule does: refuse (or, for Allow rules, refuse what no Allow rule matched), warn, or only record.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Enforcement>))]
public enum Enforcement
{
    Enforce,
    Warn,
    Audit,
}

/// <summary>Whether <c>signedBy</c> asks for a signature by any of its keys (the default) or by every one.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SignedByMode>))]
public enum SignedByMode
{
    AnyOf,
    AllOf,
}

[JsonConverter(typeof(JsonStringEnumConverter<NamespaceMode>))]
public enum NamespaceMode
{
    All,
    Only,
    Except,
}

[JsonConverter(typeof(JsonStringEnumConverter<ConditionOp>))]
public enum ConditionOp
{
    Exists,
    NotExists,
    Equals,
}

/// <summary>What a rule is asked about: pods (and every workload with a pod template), builds, imports.</summary>
public static class PolicyResources
{
    public const string Pods = "pods";
    public const string Builds = "builds";
    public const string Imports = "imports";

    public static readonly IReadOnlyList<string> All = [Pods, Builds, Imports];
}

public sealed record NamespaceScope(NamespaceMode Mode = NamespaceMode.All, IReadOnlyList<string>? Names = null);

/// <summary>A label of the image config or an annotation of the image: present, absent, or equal to a value.</summary>
public sealed record KeyCondition(string Key, ConditionOp Op = ConditionOp.Exists, string? Value = null);

/// <summary>
/// One rule of the ordered policy document, as <c>GET/PUT /api/v1/policy/rules</c> read and write it. Omitted conditions
/// mean "no condition"; all given conditions must hold for the rule to match (inverted when <see cref="Invert"/>).
/// </summary>
public sealed record PolicyRule
{
    public const int MaxNameLength = 63;
    public const int MaxDescriptionLength = 1000;
    public const int MaxPatterns = 100;

    public string Name { get; init; } = "";

    public string? Description { get; init; }

    public bool Enabled { get; init; } = true;

    public RuleAction Action { get; init; } = RuleAction.Deny;

    public Enforcement Enforcement { get; init; } = Enforcement.Enforce;

    public IReadOnlyList<string> Resources { get; init; } = [PolicyResources.Pods];

    public NamespaceScope Namespaces { get; init; } = new();

    public IReadOnlyList<string>? Registries { get; init; }

    public IReadOnlyList<string>? Repositories { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>True: the reference must name a digest; false: it must not; null: either.</summary>
    public bool? RequireDigest { get; init; }

    /// <summary>True: the image must be known to the dashboard; false: it must not be; null: either.</summary>
    public bool? RequireKnown { get; init; }

    public IReadOnlyList<KeyCondition>? Labels { get; init; }

    public IReadOnlyList<KeyCondition>? Annotations { get; init; }

    /// <summary>Trusted key names: the image must have a signature verified by one of them (all of them with <see cref="SignedByMode"/> AllOf).</summary>
    public IReadOnlyList<string>? SignedBy { get; init; }

    public SignedByMode? SignedByMode { get; init; }

    public bool Invert { get; init; }

    /// <summary>
    /// Fields that are not built into the rule: a condition kind that is not one of the standard ones reads its field
    /// here, and a field no kind claims is refused as unknown (a misspelt <c>registry</c> must not make a rule match
    /// everything).
    /// </summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? More { get; init; }
}

/// <summary>A namespace that named rules do not apply to.</summary>
public sealed record PolicyExemption(string Namespace, IReadOnlyList<string> Rules);
