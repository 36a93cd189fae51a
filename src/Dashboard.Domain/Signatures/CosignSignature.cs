using System.Text.Json;
using Dashboard.Domain.Images;

namespace Dashboard.Domain.Signatures;

/// <summary>A trusted key by name, ready to verify.</summary>
public sealed record NamedKey(string Name, PublicKey Key);

/// <summary>
/// One cosign signature of an image as stored: the simple-signing payload and the signature exactly as found (so a key
/// change re-verifies without asking the registry), its identity, which trusted key verified it or why none did.
/// </summary>
public sealed record StoredSignature(string? Identity, string Payload, string? Signature, string? Key, bool Verified, string Reason);

/// <summary>
/// Cosign's keyed verification without a transparency log (<c>cosign verify --key … --insecure-ignore-tlog</c>): the
/// payload is a "simple signing" document (https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md) whose
/// <c>critical.image.docker-manifest-digest</c> must be the image's digest and whose <c>critical.identity.docker-reference</c>
/// must name the repository the image came from (or one <see cref="SignatureOptions.Identities"/> accepts for it); the signature (base64, the layer's
/// <c>dev.cosignproject.cosign/signature</c> annotation) must verify over the payload's exact bytes with a trusted key.
/// </summary>
public static class CosignSignature
{
    public const string ArtifactType = "application/vnd.dev.cosign.artifact.sig.v1+json";
    public const string PayloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";
    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";
    public const string PayloadType = "cosign container image signature";

    /// <summary>A simple-signing payload is a few hundred bytes; a larger one is not read.</summary>
    public const int MaxPayloadBytes = 16 * 1024;

    /// <summary>The most signatures kept per image; more are not read (each costs a blob request).</summary>
    public const int MaxSignatures = 16;

    /// <summary>The base64 signature annotation's bound (an RSA-16384 signature is under 3 KiB of base64).</summary>
    public const int MaxSignatureLength = 8 * 1024;

    /// <summary>Checks one signature of <paramref name="image"/>, found in <paramref name="repository"/>, against every trusted key.</summary>
    public static StoredSignature Check(Digest image, ImageReference repository, byte[] payload, string? signature, IReadOnlyList<NamedKey> keys,
        SignatureOptions? options = null)
    {
        var text = Convert.ToBase64String(payload);
        var (identity, problem) = Read(payload, image, repository, options ?? new SignatureOptions());
        if (problem is not null)
        {
            return new StoredSignature(identity, text, signature, null, false, problem);
        }

        if (string.IsNullOrEmpty(signature))
        {
            return new StoredSignature(identity, text, signature, null, false, $"the layer has no {SignatureAnnotation} annotation");
        }

        byte[] bytes;
        try
        {
            bytes = signature.Length <= MaxSignatureLength ? Convert.FromBase64String(signature) : throw new FormatException("too long");
        }
        catch (FormatException)
        {
            return new StoredSignature(identity, text, null, null, false, $"the signature annotation is not base64 of at most {MaxSignatureLength} characters");
        }

        foreach (var key in keys)
        {
            if (key.Key.Verify(payload, bytes))
            {
                return new StoredSignature(identity, text, signature, key.Name, true, $"verified by {key.Name}");
            }
        }

        return new StoredSignature(identity, text, signature, null, false,
            keys.Count == 0 ? "no trusted keys are configured" : "no trusted key verifies it (signed by another key, or the payload was changed)");
    }

    /// <summary>Checks a stored signature again, e.g. with the keys after a change (no registry call).</summary>
    public static StoredSignature Recheck(Digest image, ImageReference repository, StoredSignature stored, IReadOnlyList<NamedKey> keys,
        SignatureOptions? options = null)
    {
        try
        {
            return Check(image, repository, Convert.FromBase64String(stored.Payload), stored.Signature, keys, options);
        }
        catch (FormatException)
        {
            return stored with { Key = null, Verified = false, Reason = "the stored payload cannot be read" };
        }
    }

    /// <summary>The payload's docker-reference, and what is wrong with it for this image (null: nothing).</summary>
    private static (string? Identity, string? Problem) Read(byte[] payload, Digest image, ImageReference repository, SignatureOptions options)
    {
        try
        {
            using var document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 16 });
            if (!document.RootElement.TryGetProperty("critical", out var critical) || critical.ValueKind != JsonValueKind.Object)
            {
                return (null, "the payload is not a simple-signing document (no \"critical\" section)");
            }

            var identity = Text(critical, "identity", "docker-reference");
            var digest = Text(critical, "image", "docker-manifest-digest");
            var type = critical.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type != PayloadType)
            {
                return (identity, $"the payload's type is '{type}', not '{PayloadType}'");
            }

            if (digest != image.ToString())
            {
                return (identity, $"the payload signs another image ({digest ?? "none named"})");
            }

            if (!ImageReference.TryParse(identity, out var named, out _) || !options.Accepts(repository, named))
            {
                return (identity, $"the payload names repository '{identity}', not {repository.Registry}/{repository.Repository}"
                    + (options.Identities.Count == 0 ? "" : " or an identity Dashboard:Signatures:Identities accepts for it"));
            }

            return (identity, null);
        }
        catch (JsonException e)
        {
            return (null, $"the payload is not JSON: {e.Message}");
        }
    }

    private static string? Text(JsonElement critical, string section, string field) =>
        critical.TryGetProperty(section, out var s) && s.ValueKind == JsonValueKind.Object && s.TryGetProperty(field, out var f)
            && f.ValueKind == JsonValueKind.String
            ? f.GetString()
            : null;
}
