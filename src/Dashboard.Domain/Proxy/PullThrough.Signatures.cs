using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Signatures;
using Microsoft.Extensions.Logging;

namespace Dashboard.Domain.Proxy;

/// <summary>
/// The signature side of the pull-through registry: <c>cosign verify --key … &lt;dashboard&gt;/&lt;ns&gt;/&lt;stream&gt;@&lt;digest&gt;</c>
/// works for clients behind the dashboard. For an image the stream recorded (as for its manifests), the dashboard serves
/// what its upstream repository holds about it: the manifest under cosign's <c>sha256-&lt;hex&gt;.sig</c> tag, the
/// OCI 1.1 referrers answer (the upstream's own when it has the API, plus the <c>.sig</c> manifest, so a client of the
/// dashboard finds tag-scheme signatures through either), and those manifests' blobs. Nothing else of the upstream
/// repository: an artifact is served by digest only once a listing of a recorded image named it, here or on another
/// instance (then found again by a bounded walk of the stream's images).
/// </summary>
public sealed partial class PullThrough
{
    /// <summary>The most referrers one answer lists.</summary>
    public const int MaxReferrers = 256;

    /// <summary>The most recorded images one by-digest request looks at for signatures another instance listed.</summary>
    private const int MaxSignatureLookups = 8;

    private readonly SignatureArtifacts _signatures = new(TimeProvider.System);

    /// <summary>
    /// The OCI 1.1 referrers answer for a recorded image (an empty index for any other digest, as the spec wants rather than
    /// 404): the upstream's referrers, filtered by <paramref name="artifactType"/>, and cosign's <c>.sig</c> manifest.
    /// </summary>
    public async Task<byte[]> ReferrersAsync(Access.Caller caller, string @namespace, string streamName, Digest subject, string? artifactType,
        CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var (ns, stream) = await StreamAsync(db, caller, @namespace, streamName, ct);
        var listed = await RecordedEntryAsync(db, stream, subject, ct) is { } entry
            ? await ListSignaturesAsync(ns.Id, stream, entry, subject, artifactType, ct)
            : [];
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciIndex,
            ["manifests"] = new JsonArray([.. listed]),
        };
        return JsonSerializer.SerializeToUtf8Bytes(index);
    }

    /// <summary>The manifest under cosign's tag for a recorded image, from the image's upstream repository; 404 when it has none.</summary>
    private async Task<ProxyManifest> SignatureTagAsync(DashboardDbContext db, int namespaceId, ImageStream stream, Digest image, CancellationToken ct)
    {
        var entry = await RecordedEntryAsync(db, stream, image, ct)
            ?? throw new NotFoundException($"{stream.Name} has no image {image}, so no signatures of it are served.");
        var upstream = UpstreamOf(stream, entry);
        var tagged = await WithSecretsAsync(namespaceId, upstream, target => SignatureTagManifestAsync(target, upstream, image, ct), ct)
            ?? throw new NotFoundException($"{image} has no cosign signatures in its upstream repository.");
        return Served(stream, image, tagged);
    }

    /// <summary>A signature artifact by digest: one a listing of a recorded image named (here, or found by a bounded walk).</summary>
    private async Task<ProxyManifest?> SignatureArtifactAsync(DashboardDbContext db, int namespaceId, ImageStream stream, Digest artifact,
        CancellationToken ct)
    {
        var key = StreamKey(stream);
        if (_signatures.ImageOf(key, artifact) is null)
        {
            await WalkSignaturesAsync(db, namespaceId, stream, ct);
        }

        if (_signatures.ImageOf(key, artifact) is not { } image || await RecordedEntryAsync(db, stream, image, ct) is not { } entry)
        {
            return null;
        }

        var upstream = UpstreamOf(stream, entry);
        var manifest = await WithSecretsAsync(namespaceId, upstream, target => registry.GetManifestAsync(target, upstream.Repository, artifact.ToString(), ct), ct);
        return Served(stream, image, manifest);
    }

    /// <summary>A blob of a signature manifest served for this stream (or found by the walk when <paramref name="fetchMissing"/>).</summary>
    private async Task<Descriptor?> SignatureBlobAsync(int namespaceId, ImageStream stream, Digest blob, bool fetchMissing, CancellationToken ct)
    {
        var key = StreamKey(stream);
        if (_signatures.Blob(key, blob) is { } known)
        {
            return known;
        }

        if (!fetchMissing)
        {
            return null;
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        await WalkSignaturesAsync(db, namespaceId, stream, ct);
        return _signatures.Blob(key, blob);
    }

    /// <summary>
    /// Lists the signatures of the stream's current images (at most <see cref="MaxSignatureLookups"/>), once per stream
    /// within <see cref="SignatureArtifacts.Freshness"/>: what a request that landed on another instance than the listing
    /// needs, without letting digest probes cost upstream requests each.
    /// </summary>
    private async Task WalkSignaturesAsync(DashboardDbContext db, int namespaceId, ImageStream stream, CancellationToken ct)
    {
        if (!_signatures.StartWalk(StreamKey(stream)))
        {
            return;
        }

        var images = stream.SpecTags.Select(t => stream.CurrentImage(t.Name)).OfType<TagEvent>()
            .Concat(stream.History.OrderByDescending(e => e.Created)).DistinctBy(e => e.Image).Take(MaxSignatureLookups);
        foreach (var entry in images)
        {
            try
            {
                var listed = await ListSignaturesAsync(namespaceId, stream, entry, Digest.Parse(entry.Image), CosignSignature.ArtifactType, ct);
                foreach (var artifact in listed.Take(MaxSignatureLookups))
                {
                    if (Digest.TryParse((string?)artifact["digest"], out var digest, out _) && !_signatures.Served(StreamKey(stream), digest))
                    {
                        await SignatureArtifactAsync(db, namespaceId, stream, digest, ct);
                    }
                }
            }
            catch (RegistryException e)
            {
                logger.LogInformation("Signatures of {Digest} in {Stream} could not be listed: {Reason}", entry.Image, stream.Name, e.Reason);
            }
        }
    }

    /// <summary>
    /// The referrers of a recorded image from its upstream repository (when it has the API) and its <c>.sig</c> manifest,
    /// as descriptors; each is remembered as a signature artifact of the image for this stream.
    /// </summary>
    private async Task<List<JsonObject>> ListSignaturesAsync(int namespaceId, ImageStream stream, TagEvent entry, Digest subject, string? artifactType,
        CancellationToken ct)
    {
        var upstream = UpstreamOf(stream, entry);
        var key = StreamKey(stream);
        // One use of the namespace's credentials for both: the upstream's referrers and cosign's tag.
        var wantsTag = artifactType is null || artifactType == CosignSignature.ArtifactType;
        var (answer, tag) = await WithSecretsAsync(namespaceId, upstream, async target => (
            await registry.GetReferrersAsync(target, upstream.Repository, subject, artifactType, ct),
            wantsTag ? await SignatureTagManifestAsync(target, upstream, subject, ct) : null), ct);
        var listed = new List<JsonObject>();
        foreach (var descriptor in ReferrersOf(answer, artifactType))
        {
            if (Digest.TryParse((string?)descriptor["digest"], out var digest, out _))
            {
                _signatures.RememberListed(key, subject, digest);
                listed.Add(descriptor);
            }
        }

        if (tag is not null && Served(stream, subject, tag) is var tagged && !listed.Any(d => (string?)d["digest"] == tagged.Digest.ToString()))
        {
            listed.Add(new JsonObject
            {
                ["mediaType"] = tagged.MediaType,
                ["digest"] = tagged.Digest.ToString(),
                ["size"] = tagged.Content.Length,
                ["artifactType"] = CosignSignature.ArtifactType,
            });
        }

        return listed;
    }

    /// <summary>The manifest under cosign's tag for the image in its upstream repository; null when it has none.</summary>
    private async Task<ManifestResponse?> SignatureTagManifestAsync(RegistryTarget target, Upstream upstream, Digest image, CancellationToken ct)
    {
        try
        {
            return await registry.GetManifestAsync(target, upstream.Repository, SignatureFinder.SignatureTag(image), ct);
        }
        catch (RegistryException e) when (e.Reason == RegistryFailure.NotFound)
        {
            return null;
        }
    }

    /// <summary>A signature manifest of <paramref name="image"/> as served, remembered for the stream with its blobs.</summary>
    private ProxyManifest Served(ImageStream stream, Digest image, ManifestResponse manifest)
    {
        var served = new ProxyManifest(manifest.Content, manifest.MediaType, manifest.Digest);
        _signatures.RememberManifest(StreamKey(stream), image, served);
        return served;
    }

    /// <summary>The descriptors of a referrers answer (at most <see cref="MaxReferrers"/>), of the artifact type asked for.</summary>
    private static IEnumerable<JsonObject> ReferrersOf(byte[]? answer, string? artifactType)
    {
        if (answer is null)
        {
            return [];
        }

        try
        {
            return JsonNode.Parse(answer)?["manifests"] is JsonArray manifests
                ? manifests.OfType<JsonObject>()
                    .Where(d => artifactType is null || (string?)d["artifactType"] == artifactType)
                    .Take(MaxReferrers).Select(d => (JsonObject)d.DeepClone()).ToList()
                : [];
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new RegistryException(RegistryFailure.InvalidManifest, $"The referrers answer is not an image index: {e.Message}");
        }
    }

    private static string StreamKey(ImageStream stream) => $"{stream.NamespaceId}/{stream.Name}";
}

/// <summary>
/// Per stream, which signature artifacts (by digest) a listing named for which recorded image, and the blobs of those
/// served: what may be served by digest. Forgets after <see cref="Freshness"/>; bounded.
/// </summary>
internal sealed class SignatureArtifacts(TimeProvider clock)
{
    public static readonly TimeSpan Freshness = TimeSpan.FromMinutes(10);
    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<(string Stream, Digest Artifact), (Digest Image, long At)> _artifacts = new();
    private readonly ConcurrentDictionary<(string Stream, Digest Blob), (Descriptor Blob, long At)> _blobs = new();
    private readonly ConcurrentDictionary<(string Stream, Digest Artifact), (Digest Image, long At)> _served = new();
    private readonly ConcurrentDictionary<string, long> _walks = new();

    public Digest? ImageOf(string stream, Digest artifact) =>
        _artifacts.TryGetValue((stream, artifact), out var known) && Fresh(known.At) ? known.Image : null;

    public Descriptor? Blob(string stream, Digest blob) =>
        _blobs.TryGetValue((stream, blob), out var known) && Fresh(known.At) ? known.Blob : null;

    /// <summary>Whether this artifact's manifest was served for the stream (so its blobs are known).</summary>
    public bool Served(string stream, Digest artifact) => _served.TryGetValue((stream, artifact), out var served) && Fresh(served.At);

    public void RememberListed(string stream, Digest image, Digest artifact)
    {
        Prune(_artifacts);
        _artifacts[(stream, artifact)] = (image, clock.GetTimestamp());
    }

    public void RememberManifest(string stream, Digest image, ProxyManifest manifest)
    {
        RememberListed(stream, image, manifest.Digest);
        Prune(_blobs);
        Prune(_served);
        var now = clock.GetTimestamp();
        _served[(stream, manifest.Digest)] = (image, now);
        var document = ManifestDocument.Parse(manifest.Content, manifest.MediaType);
        foreach (var blob in document.Layers.Prepend(document.Config).OfType<Descriptor>())
        {
            _blobs[(stream, blob.Digest)] = (blob, now);
        }
    }

    /// <summary>Whether a walk of the stream's images may start now (none did within <see cref="Freshness"/>).</summary>
    public bool StartWalk(string stream)
    {
        var now = clock.GetTimestamp();
        var last = _walks.GetOrAdd(stream, long.MinValue);
        return (last == long.MinValue || !Fresh(last)) && _walks.TryUpdate(stream, now, last);
    }

    private bool Fresh(long at) => clock.GetElapsedTime(at) < Freshness;

    private void Prune<TKey, TValue>(ConcurrentDictionary<TKey, (TValue, long At)> entries) where TKey : notnull
    {
        if (entries.Count < MaxEntries)
        {
            return;
        }

        foreach (var stale in entries.Where(e => !Fresh(e.Value.At)).Select(e => e.Key).ToList())
        {
            entries.TryRemove(stale, out _);
        }

        if (entries.Count >= MaxEntries)
        {
            entries.Clear();
        }
    }
}
