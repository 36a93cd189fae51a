using System.Text.Json;
using Dashboard.Domain.Policy;

namespace Dashboard.Admission;

/// <summary>A review as read: the uid its answer must carry, and what it asks the policy.</summary>
public sealed record ReceivedReview(string Uid, AdmissionQuestion Question);

/// <summary>Reads <c>admission.k8s.io/v1</c> AdmissionReviews of every kind the policy reads, and writes their answers.</summary>
public static class AdmissionReviewReader
{
    public const string ApiVersion = "admission.k8s.io/v1";

    /// <summary>
    /// Reads a review; anything it cannot read — not JSON, a field of the wrong type, a duplicate property — is a
    /// <see cref="MalformedAdmissionException"/> naming where, never another exception (the endpoint answers 400).
    /// </summary>
    public static ReceivedReview Read(ReadOnlySpan<byte> utf8)
    {
        IncomingReview? review;
        try
        {
            review = JsonSerializer.Deserialize(utf8, AdmissionJson.Default.IncomingReview);
        }
        catch (JsonException e)
        {
            throw Unreadable(e);
        }

        return Read(review);
    }

    /// <inheritdoc cref="Read(ReadOnlySpan{byte})"/>
    public static async Task<ReceivedReview> ReadAsync(Stream body, CancellationToken ct = default)
    {
        IncomingReview? review;
        try
        {
            review = await JsonSerializer.DeserializeAsync(body, AdmissionJson.Default.IncomingReview, ct);
        }
        catch (JsonException e)
        {
            throw Unreadable(e);
        }

        return Read(review);
    }

    private static MalformedAdmissionException Unreadable(JsonException e) => new(
        // The reader's own exception inside means the text is not JSON; a mismatch at the root, that it is not an object.
        e.InnerException is JsonException ? $"The body is not JSON: {e.Message}"
        : e.Path == "$" ? NotAnObject
        : $"The AdmissionReview cannot be read: {e.Message}");

    private const string NotAnObject = "The body is not a JSON object: send an admission.k8s.io/v1 AdmissionReview.";

    private static ReceivedReview Read(IncomingReview? review)
    {
        if (review is null)
        {
            throw new MalformedAdmissionException(NotAnObject);
        }

        if (review.Request is not { } request)
        {
            throw new MalformedAdmissionException("The AdmissionReview has no 'request' object.");
        }

        var uid = request.Uid ?? throw new MalformedAdmissionException("The AdmissionReview request has no 'uid'.");
        var operation = request.Operation ?? throw new MalformedAdmissionException("The AdmissionReview request has no 'operation'.");
        var kind = request.Kind?.Kind;
        var @namespace = request.Namespace ?? "";
        var name = request.Name;
        if (!AdmissionQuestion.IsJudged(operation))
        {
            return new ReceivedReview(uid, new AdmissionQuestion(@namespace, operation, kind ?? "", name, PolicyResources.Pods, []));
        }

        if (kind is null)
        {
            throw new MalformedAdmissionException("The AdmissionReview request has no 'kind.kind'.");
        }

        if (request.Object is not { ValueKind: not JsonValueKind.Null } obj)
        {
            throw new MalformedAdmissionException($"The {operation} of a {kind} carries no 'object'.");
        }

        if (obj.ValueKind != JsonValueKind.Object)
        {
            throw new MalformedAdmissionException("'request.object' is not an object.");
        }

        name ??= WorkloadImages.NameOf(obj);
        var (resource, images) = WorkloadImages.Of(kind, obj, request.SubResource);
        return new ReceivedReview(uid, new AdmissionQuestion(@namespace, operation, kind, name, resource, images));
    }

    /// <summary>
    /// The answer: the request's uid, allowed or a 403 status naming every violation (or <paramref name="refusal"/>), the
    /// warnings, and a JSONPatch when <paramref name="patch"/> holds operations.
    /// </summary>
    public static AdmissionAnswer Answer(string uid, PolicyDecision? decision, string? refusal = null, IReadOnlyList<PatchOperation>? patch = null)
    {
        var message = refusal ?? (decision is { Allowed: false } ? decision.Message : null);
        return new AdmissionAnswer(new AdmissionResponse
        {
            Uid = uid,
            Allowed = decision?.Allowed ?? refusal is null,
            Status = message is null ? null : new AdmissionStatus(403, "Forbidden", message),
            // Kubernetes shows each warning as a header value of at most 256 characters.
            Warnings = decision is { Warnings.Count: > 0 } ? [.. decision.Warnings.Select(w => Clip(PolicyDecision.Describe(w, "is warned about by"), 256))] : null,
            PatchType = patch is { Count: > 0 } ? "JSONPatch" : null,
            Patch = patch is { Count: > 0 } ? JsonSerializer.SerializeToUtf8Bytes([.. patch], AdmissionJson.Default.PatchOperationArray) : null,
        });
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
