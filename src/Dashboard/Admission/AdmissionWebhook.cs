using Dashboard.Domain.Policy;

namespace Dashboard.Admission;

/// <summary>The two webhooks between a read review and its answer: the domain decides, this writes the wire's answer.</summary>
public sealed class AdmissionWebhook(PolicyEvaluator evaluator, DigestPinning pinning)
{
    /// <summary>The validating webhook: allowed, or a 403 naming every violation; warnings either way.</summary>
    public async Task<AdmissionAnswer> ValidateAsync(ReceivedReview review, CancellationToken ct = default) =>
        AdmissionReviewReader.Answer(review.Uid, await evaluator.AdmitAsync(review.Question, ct));

    /// <summary>
    /// The mutating webhook: tag references pinned to digests with a JSONPatch, as <paramref name="mode"/> says, or a
    /// refusal of what does not resolve when it is required.
    /// </summary>
    /// <param name="localHost">The dashboard's public registry host, for tags that pull through it.</param>
    public async Task<AdmissionAnswer> MutateAsync(ReceivedReview review, ResolveImages mode, string? localHost = null, CancellationToken ct = default)
    {
        var result = await pinning.PinAsync(review.Question, mode, localHost, ct);
        return AdmissionReviewReader.Answer(review.Uid, null, result.Refusal, [.. result.Pins.Select(p => new PatchOperation("replace", p.Path, p.Pinned))]);
    }
}
