namespace Dashboard.Domain.Policy;

/// <summary>How <c>/admission/mutate</c> pins tag references to digests (OpenShift's <c>resolveImages</c>).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ResolveImages>))]
public enum ResolveImages
{
    /// <summary>Leave references alone.</summary>
    DoNotAttempt,

    /// <summary>Resolve where possible, change nothing (the decision is still the validating webhook's).</summary>
    Attempt,

    /// <summary>Refuse a reference that does not resolve; change nothing.</summary>
    Required,

    /// <summary>Rewrite references that resolve to <c>repository@sha256:…</c>; leave the others.</summary>
    AttemptRewrite,

    /// <summary>Rewrite references that resolve; refuse the ones that do not.</summary>
    RequiredRewrite,
}

/// <summary>A container image to pin: where it is in the object (a JSON pointer) and the reference by digest to put there.</summary>
public sealed record ImagePin(string Path, string Pinned);

/// <summary>What pinning decided: the references to rewrite, or a refusal naming every image that did not resolve.</summary>
public sealed record PinningResult(IReadOnlyList<ImagePin> Pins, string? Refusal);

/// <summary>
/// Mutating admission's decision: tag references that resolve through a stream tag the dashboard follows are pinned to the
/// digest that tag points at now; the host writes the JSONPatch.
/// </summary>
public sealed class DigestPinning(IImageFacts facts)
{
    private static readonly PinningResult Nothing = new([], null);

    /// <summary>
    /// The pins for <paramref name="question"/>'s images; <paramref name="mode"/> says whether to rewrite and whether an
    /// unresolved reference is refused.
    /// </summary>
    /// <param name="localHost">The dashboard's public registry host: a tag with the <c>Local</c> reference policy is rewritten to pull through it.</param>
    public async Task<PinningResult> PinAsync(AdmissionQuestion question, ResolveImages mode, string? localHost = null, CancellationToken ct = default)
    {
        if (!question.Judged || mode == ResolveImages.DoNotAttempt)
        {
            return Nothing;
        }

        var pins = new List<ImagePin>();
        var unresolved = new List<string>();
        foreach (var image in question.Images.Where(i => i.Path is not null))
        {
            if (!Images.ImageReference.TryParse(image.Reference, out var reference, out _) || reference.Digest is not null)
            {
                continue;
            }

            var fact = await facts.LookupAsync(reference, question.Namespace, ct);
            if (fact is { Known: true, Digest: { } digest })
            {
                if (mode is ResolveImages.AttemptRewrite or ResolveImages.RequiredRewrite)
                {
                    var pinned = fact.LocalRepository is { } local && !string.IsNullOrWhiteSpace(localHost)
                        ? $"{localHost.Trim()}/{local}@{digest}"
                        : $"{reference.Registry}/{reference.Repository}@{digest}";
                    pins.Add(new ImagePin(image.Path!, pinned));
                }
            }
            else
            {
                unresolved.Add($"{image.Where}: {image.Reference}");
            }
        }

        return mode is ResolveImages.Required or ResolveImages.RequiredRewrite && unresolved.Count > 0
            ? new PinningResult([], $"These images do not resolve to a digest through an image stream, and the policy requires it: {string.Join("; ", unresolved)}")
            : new PinningResult(pins, null);
    }
}
