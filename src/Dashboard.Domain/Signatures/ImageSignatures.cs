using Dashboard.Domain.Images;

namespace Dashboard.Domain.Signatures;

/// <summary>
/// What the dashboard last found about an image's cosign signatures in one repository it was imported from (one row per
/// image digest and repository): each signature as found, with the trusted key that verified it or why none did, and
/// when. A namespace reads only the rows of the repositories its streams recorded the image from, so an import into
/// another namespace never changes what counts as signed for it. No row: never looked (counts as unsigned).
/// </summary>
public sealed class ImageSignatures
{
    private ImageSignatures()
    {
        Digest = "";
        Repository = "";
    }

    public ImageSignatures(Digest digest, ImageReference repository, IReadOnlyList<StoredSignature> signatures, DateTime checkedAt)
        : this()
    {
        Digest = digest.ToString();
        Replace(repository, signatures, checkedAt);
    }

    public string Digest { get; private set; }

    /// <summary><c>registry/repository</c> the signatures were found in: their docker-reference must name it.</summary>
    public string Repository { get; private set; }

    public DateTime CheckedAt { get; private set; }

    public IReadOnlyList<StoredSignature> Signatures { get; private set; } = [];

    /// <summary>The trusted keys that verified a signature, by name, in order (what the policy's <c>signedBy</c> reads).</summary>
    public IReadOnlyList<string> VerifiedKeys { get; private set; } = [];

    /// <summary>Whether any trusted key verified a signature (the stream page's "unsigned" filter reads it).</summary>
    public bool Signed { get; private set; }

    /// <summary>How a row names the repository of a reference: <c>registry/repository</c>.</summary>
    public static string RepositoryOf(ImageReference reference) => $"{reference.Registry}/{reference.Repository}";

    public void Replace(ImageReference repository, IReadOnlyList<StoredSignature> signatures, DateTime checkedAt)
    {
        Repository = RepositoryOf(repository);
        CheckedAt = checkedAt;
        Reverified(signatures);
    }

    /// <summary>The same signatures judged again (a key changed); when they were looked for stays.</summary>
    public void Reverified(IReadOnlyList<StoredSignature> signatures)
    {
        Signatures = [.. signatures];
        VerifiedKeys = [.. signatures.Where(s => s.Verified).Select(s => s.Key!).Distinct().Order(StringComparer.Ordinal)];
        Signed = VerifiedKeys.Count > 0;
    }
}
