using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dashboard.Domain.Images;
using Dashboard.Domain.Registry;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Signatures;

/// <summary>
/// Finds an image's cosign signatures in the repository it is imported from, with the import's own client and target
/// (credentials, bounds): the OCI 1.1 referrers API when the registry offers it, else cosign's tag <c>sha256-&lt;hex&gt;.sig</c>
/// (https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md). Each signature layer's payload is read (at most
/// <see cref="CosignSignature.MaxPayloadBytes"/>, at most <see cref="CosignSignature.MaxSignatures"/> of them) and checked
/// against the trusted keys.
/// </summary>
public sealed partial class SignatureFinder(RegistryClient registry, TimeProvider clock, IOptionsMonitor<SignatureOptions> options)
{
    /// <summary>How long a registry that answered the referrers API with 404 is not asked again.</summary>
    public static readonly TimeSpan ReferrersRetry = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _noReferrers = new(StringComparer.OrdinalIgnoreCase);

    public async Task<IReadOnlyList<StoredSignature>> FindAsync(RegistryTarget target, ImageReference source, Digest image, IReadOnlyList<NamedKey> keys,
        CancellationToken ct)
    {
        var found = new List<StoredSignature>();
        var layers = (await SignatureManifestsAsync(target, source.Repository, image, ct))
            .SelectMany(m => m.Layers).Where(l => l.MediaType == CosignSignature.PayloadMediaType)
            .DistinctBy(l => (l.Digest, l.Annotations.GetValueOrDefault(CosignSignature.SignatureAnnotation)))
            .Take(CosignSignature.MaxSignatures);
        foreach (var layer in layers)
        {
            var signature = layer.Annotations.GetValueOrDefault(CosignSignature.SignatureAnnotation);
            if (layer.Size > CosignSignature.MaxPayloadBytes)
            {
                found.Add(new StoredSignature(null, "", null, null, false, $"the payload is larger than {CosignSignature.MaxPayloadBytes / 1024} KiB; not read"));
                continue;
            }

            byte[] payload;
            try
            {
                payload = await registry.GetBlobAsync(target, source.Repository, layer.Digest, CosignSignature.MaxPayloadBytes, ct);
            }
            catch (RegistryException e) when (e.Reason is RegistryFailure.InvalidManifest or RegistryFailure.NotFound)
            {
                found.Add(new StoredSignature(null, "", null, null, false, $"the payload could not be read: {e.Message}"));
                continue;
            }

            found.Add(CosignSignature.Check(image, source, payload, signature, keys, options.CurrentValue));
        }

        return found;
    }

    /// <summary>The signature manifests by referrers when the registry answers them, else the <c>.sig</c> tag's (none when it has no such tag).</summary>
    private async Task<IReadOnlyList<ManifestDocument>> SignatureManifestsAsync(RegistryTarget target, string repository, Digest image, CancellationToken ct)
    {
        var documents = new List<ManifestDocument>();
        var now = clock.GetUtcNow();
        if (!_noReferrers.TryGetValue(target.Registry, out var until) || until <= now)
        {
            var index = await registry.GetReferrersAsync(target, repository, image, CosignSignature.ArtifactType, ct);
            if (index is null)
            {
                _noReferrers[target.Registry] = now + ReferrersRetry;
            }
            else
            {
                foreach (var digest in CosignReferrers(index).Take(CosignSignature.MaxSignatures))
                {
                    var manifest = await registry.GetManifestAsync(target, repository, digest.ToString(), ct);
                    documents.Add(ManifestDocument.Parse(manifest.Content, manifest.MediaType));
                }

                if (documents.Count > 0)
                {
                    return documents;
                }
            }
        }

        try
        {
            var tagged = await registry.GetManifestAsync(target, repository, SignatureTag(image), ct);
            documents.Add(ManifestDocument.Parse(tagged.Content, tagged.MediaType));
        }
        catch (RegistryException e) when (e.Reason == RegistryFailure.NotFound)
        {
            // No signature tag: the image is not signed there.
        }

        return documents;
    }

    /// <summary>Whether <paramref name="tag"/> is one cosign writes beside an image (<c>sha256-&lt;hex&gt;.sig</c>, <c>.att</c>, <c>.sbom</c>).</summary>
    public static bool IsArtifactTag(string tag) => ArtifactTag().IsMatch(tag);

    [GeneratedRegex(@"^sha256-[0-9a-f]{64}\.(sig|att|sbom)$")]
    private static partial Regex ArtifactTag();

    /// <summary>cosign's tag for the signatures of <paramref name="image"/>: <c>sha256-&lt;hex&gt;.sig</c>.</summary>
    public static string SignatureTag(Digest image) => $"{image.Algorithm}-{image.Hex}.sig";

    /// <summary>The image a <c>sha256-&lt;hex&gt;.sig</c> tag holds the signatures of; null for any other tag.</summary>
    public static Digest? ImageOfSignatureTag(string tag) =>
        ArtifactTag().Match(tag) is { Success: true, Groups: var groups } && groups[1].Value == "sig" && Digest.TryParse($"sha256:{tag[7..71]}", out var image, out _)
            ? image
            : null;

    /// <summary>
    /// The manifests of a referrers answer (an OCI index) whose <c>artifactType</c> is cosign's signature type; a registry
    /// may ignore the <c>artifactType</c> filter, so it is applied here too.
    /// </summary>
    internal static IReadOnlyList<Digest> CosignReferrers(byte[] index)
    {
        try
        {
            using var document = JsonDocument.Parse(index);
            if (!document.RootElement.TryGetProperty("manifests", out var manifests) || manifests.ValueKind != JsonValueKind.Array)
            {
                return [];
            }

            var digests = new List<Digest>();
            foreach (var manifest in manifests.EnumerateArray())
            {
                if (manifest.ValueKind == JsonValueKind.Object
                    && manifest.TryGetProperty("artifactType", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == CosignSignature.ArtifactType
                    && manifest.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String && Digest.TryParse(d.GetString(), out var digest, out _))
                {
                    digests.Add(digest);
                }
            }

            return digests;
        }
        catch (JsonException e)
        {
            throw new RegistryException(RegistryFailure.InvalidManifest, $"The referrers answer is not valid JSON: {e.Message}");
        }
    }
}
