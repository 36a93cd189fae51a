namespace Dashboard.Domain.Signatures;

/// <summary>A public key an admin trusts to vouch for images: a signature it verifies makes the image "signed by" its name.</summary>
public sealed class TrustedKey
{
    public const int MaxDescriptionLength = 1000;

    private TrustedKey()
    {
        Name = "";
        PublicKeyPem = "";
        Algorithm = "";
        Fingerprint = "";
        UpdatedBy = "";
    }

    public TrustedKey(string name, PublicKey key, string pem, string? description, DateTime at, string by)
        : this()
    {
        Name = name;
        CreatedAt = at;
        Replace(key, pem, description, at, by);
    }

    /// <summary>A DNS label, as rule names are: policy rules name keys in <c>signedBy</c>.</summary>
    public string Name { get; private set; }

    public string PublicKeyPem { get; private set; }

    public string? Description { get; private set; }

    /// <summary>e.g. <c>ECDSA P-256</c>.</summary>
    public string Algorithm { get; private set; }

    /// <summary>sha256 of the DER key.</summary>
    public string Fingerprint { get; private set; }

    public DateTime CreatedAt { get; private set; }

    public DateTime UpdatedAt { get; private set; }

    public string UpdatedBy { get; private set; }

    public void Replace(PublicKey key, string pem, string? description, DateTime at, string by)
    {
        PublicKeyPem = pem.Trim();
        Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
        Algorithm = key.Algorithm;
        Fingerprint = key.Fingerprint;
        UpdatedAt = at;
        UpdatedBy = by;
    }
}
