using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dashboard.Admission;

/// <summary>
/// The part of an <c>admission.k8s.io/v1</c> AdmissionReview the webhooks read; every other field (userInfo, oldObject,
/// options…) is skipped unread, whatever its shape.
/// </summary>
public sealed class IncomingReview
{
    public IncomingRequest? Request { get; init; }
}

public sealed class IncomingRequest
{
    public string? Uid { get; init; }

    public GroupVersionKind? Kind { get; init; }

    public string? Namespace { get; init; }

    public string? Name { get; init; }

    public string? SubResource { get; init; }

    public string? Operation { get; init; }

    /// <summary>Kept as JSON: which paths are read depends on the kind (<see cref="Domain.Policy.WorkloadImages"/>).</summary>
    public JsonElement? Object { get; init; }
}

public sealed class GroupVersionKind
{
    public string? Kind { get; init; }
}

/// <summary>The AdmissionReview the webhooks answer with.</summary>
public sealed record AdmissionAnswer(AdmissionResponse Response)
{
    [JsonPropertyOrder(-2)]
    public string ApiVersion => AdmissionReviewReader.ApiVersion;

    [JsonPropertyOrder(-1)]
    public string Kind => "AdmissionReview";
}

public sealed class AdmissionResponse
{
    public required string Uid { get; init; }

    public bool Allowed { get; init; }

    public AdmissionStatus? Status { get; init; }

    public IReadOnlyList<string>? Warnings { get; init; }

    public string? PatchType { get; init; }

    /// <summary>The JSONPatch's UTF-8 bytes, which the serializer writes as base64 as Kubernetes expects.</summary>
    public byte[]? Patch { get; init; }
}

public sealed record AdmissionStatus(int Code, string Reason, string Message);

/// <summary>One JSONPatch operation (RFC 6902); mutation only ever replaces an image.</summary>
public sealed record PatchOperation(string Op, string Path, string Value);

/// <summary>
/// Source-generated (de)serialization for the review and the answer: the hot path reads and writes them without reflection
/// and without a <c>JsonNode</c> tree. A duplicate property is refused, as the API server would never send one.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(IncomingReview))]
[JsonSerializable(typeof(AdmissionAnswer))]
[JsonSerializable(typeof(PatchOperation[]))]
public sealed partial class AdmissionJson : JsonSerializerContext;
