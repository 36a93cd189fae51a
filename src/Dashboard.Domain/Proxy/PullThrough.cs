using Dashboard.Domain.Access;
using Dashboard.Domain.Diagnostics;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Signatures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Dashboard.Domain.Proxy;

public sealed record ProxyManifest(byte[] Content, string MediaType, Digest Digest);

/// <summary>An upstream's answer for a blob, and the size the stream's recorded manifest states for it (when it says).</summary>
public sealed record UpstreamBlob(HttpResponseMessage Response, long? StatedSize);

/// <summary>An upstream repository a stream's images come from, and how to reach it.</summary>
internal sealed record Upstream(string Registry, string Repository, bool Insecure);

/// <summary>
/// The pull side of the dashboard's own registry endpoint: <c>&lt;dashboard&gt;/&lt;namespace&gt;/&lt;stream&gt;:&lt;tag&gt;</c>
/// is the image that tag points at, fetched from its upstream with the namespace's pull secrets. Only what the stream
/// recorded is served — a tag's current image, digests of its history and the platform manifests of those — so the
/// endpoint is no open proxy to arbitrary upstream content. The cosign signatures of those images are served too
/// (<c>PullThrough.Signatures.cs</c>).
/// </summary>
public sealed partial class PullThrough(
    IDbContextFactory<DashboardDbContext> contexts, RegistryClient registry, PullSecretService secrets, ILogger<PullThrough> logger, BlobCache? cache = null)
{
    public BlobCache? Cache => cache;

    public async Task<ProxyManifest> ManifestAsync(Caller caller, string @namespace, string streamName, string reference, CancellationToken ct = default)
    {
        using var span = DashboardTelemetry.Source.StartActivity("pull-through manifest");
        span?.SetTag("dashboard.namespace", @namespace).SetTag("dashboard.stream", streamName).SetTag("dashboard.reference", reference);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var (ns, stream) = await StreamAsync(db, caller, @namespace, streamName, ct);
        TagEvent? entry;
        Digest wanted;
        if (Digest.TryParse(reference, out var asked, out _))
        {
            wanted = asked!;
            entry = await RecordedEntryAsync(db, stream, wanted, ct);
            if (entry is null && await SignatureArtifactAsync(db, ns.Id, stream, wanted, ct) is { } artifact)
            {
                return artifact;
            }
        }
        else
        {
            entry = stream.CurrentImage(reference);
            if (entry is null && SignatureFinder.ImageOfSignatureTag(reference) is { } signed)
            {
                return await SignatureTagAsync(db, ns.Id, stream, signed, ct);
            }

            wanted = entry is null ? null! : Digest.Parse(entry.Image);
        }

        if (entry is null)
        {
            throw new NotFoundException($"{@namespace}/{streamName} has no image '{reference}'.");
        }

        var upstream = UpstreamOf(stream, entry);
        ManifestResponse manifest;
        try
        {
            manifest = await WithSecretsAsync(ns.Id, upstream, target => registry.GetManifestAsync(target, upstream.Repository, wanted.ToString(), ct), ct);
        }
        catch (RegistryException e) when (e.Reason is RegistryFailure.Unreachable or RegistryFailure.RateLimited && cache?.Manifest(wanted) is { } kept)
        {
            cache.CountUpstreamError();
            logger.LogWarning("{Registry} is {Reason}; serving {Namespace}/{Stream}@{Digest} from the cache", upstream.Registry, e.Reason, @namespace, streamName, wanted);
            return kept;
        }

        if (manifest.Digest != wanted)
        {
            throw new RegistryException(RegistryFailure.InvalidManifest,
                $"{upstream.Registry}/{upstream.Repository} now serves {manifest.Digest} for {wanted}: refusing to hand out something else than the stream recorded.");
        }

        var served = new ProxyManifest(manifest.Content, manifest.MediaType, manifest.Digest);
        cache?.Keep(served);
        return served;
    }

    /// <summary>
    /// Opens a blob from the stream's upstream repositories in OpenShift's order (the current images of its tags, then
    /// older history); the caller streams and disposes the answer. Null when none of them has it — or when none of the
    /// stream's recorded manifests names it: knowing the digest of a layer the stream never recorded (another tag of the
    /// same upstream repository) gets nothing, though the namespace's pull secrets could fetch it.
    /// </summary>
    public async Task<UpstreamBlob?> OpenBlobAsync(Caller caller, string @namespace, string streamName, Digest digest, bool head, string? range,
        CancellationToken ct = default, bool keepOffload = false)
    {
        using var span = DashboardTelemetry.Source.StartActivity("pull-through blob");
        span?.SetTag("dashboard.namespace", @namespace).SetTag("dashboard.stream", streamName).SetTag("dashboard.digest", digest.ToString());
        await using var db = await contexts.CreateDbContextAsync(ct);
        var (ns, stream) = await StreamAsync(db, caller, @namespace, streamName, ct);
        if (await RecordedBlobAsync(caller, @namespace, ns.Id, stream, digest, fetchMissing: true, ct) is not { } named)
        {
            return null;
        }

        var candidates = stream.SpecTags.Select(t => stream.CurrentImage(t.Name)).OfType<TagEvent>()
            .Concat(stream.History.OrderByDescending(e => e.Created))
            .Select(e => UpstreamOf(stream, e)).Distinct().ToList();
        foreach (var upstream in candidates)
        {
            var response = await WithSecretsAsync(ns.Id, upstream, target => registry.OpenBlobAsync(target, upstream.Repository, digest, head, range, ct, keepOffload), ct);
            if (response is not null)
            {
                return new UpstreamBlob(response, named.Size);
            }
        }

        return null;
    }

    /// <summary>
    /// Whether a cached blob may be served for this stream: one of the stream's recorded manifests (or a platform manifest
    /// of one) names it. A blob cached for another namespace's image is not handed to whoever knows its digest.
    /// </summary>
    public async Task<bool> OwnsBlobAsync(Caller caller, string @namespace, string streamName, Digest digest, CancellationToken ct = default)
    {
        if (cache is null)
        {
            return false;
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var (ns, stream) = await StreamAsync(db, caller, @namespace, streamName, ct);
        return await RecordedBlobAsync(caller, @namespace, ns.Id, stream, digest, fetchMissing: false, ct) is not null;
    }

    /// <summary>The most recorded manifests one blob request fetches from upstream to learn whether they name the blob.</summary>
    private const int MaxManifestFetchesPerBlob = 16;

    /// <summary>
    /// The descriptor of the blob in one of the stream's recorded manifests (or their platform manifests): those in the
    /// cache, and with <paramref name="fetchMissing"/> also those fetched (verified against their recorded digest) from
    /// upstream — the current images first, a bounded number per request; else a blob of a signature artifact of one of
    /// those images.
    /// </summary>
    private async Task<Descriptor?> RecordedBlobAsync(Caller caller, string @namespace, int namespaceId, ImageStream stream, Digest digest,
        bool fetchMissing, CancellationToken ct)
    {
        var pending = new Queue<string>(stream.SpecTags.Select(t => stream.CurrentImage(t.Name)).OfType<TagEvent>()
            .Concat(stream.History.OrderByDescending(e => e.Created)).Select(e => e.Image).Distinct());
        var seen = new HashSet<string>();
        var fetched = 0;
        while (pending.TryDequeue(out var next))
        {
            if (!seen.Add(next) || !Digest.TryParse(next, out var manifestDigest, out _))
            {
                continue;
            }

            var manifest = cache?.Manifest(manifestDigest!);
            if (manifest is null && fetchMissing && fetched++ < MaxManifestFetchesPerBlob)
            {
                try
                {
                    manifest = await ManifestAsync(caller, @namespace, stream.Name, manifestDigest!.ToString(), ct);
                }
                catch (DashboardException)
                {
                    // Not servable for this stream (a platform manifest of a list no longer in its history): names nothing.
                }
                catch (RegistryException e)
                {
                    logger.LogInformation("Manifest {Digest} of {Namespace}/{Stream} could not be read to check a blob: {Reason}", manifestDigest,
                        @namespace, stream.Name, e.Reason);
                }
            }

            if (manifest is null)
            {
                continue;
            }

            var document = ManifestDocument.Parse(manifest.Content, manifest.MediaType);
            if ((document.Config?.Digest == digest ? document.Config : document.Layers.FirstOrDefault(l => l.Digest == digest)) is { } named)
            {
                return named;
            }

            foreach (var child in document.Manifests)
            {
                pending.Enqueue(child.Digest.ToString());
            }
        }

        return await SignatureBlobAsync(namespaceId, stream, digest, fetchMissing, ct);
    }

    /// <summary>The stream's tags that point at an image, in name order.</summary>
    public async Task<IReadOnlyList<string>> TagsAsync(Caller caller, string @namespace, string streamName, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var (_, stream) = await StreamAsync(db, caller, @namespace, streamName, ct);
        return [.. stream.History.Select(e => e.Tag).Distinct().Order(StringComparer.Ordinal)];
    }

    /// <summary>Whether the namespace lets registry clients pull without logging in.</summary>
    public async Task<bool> AllowsAnonymousAsync(string @namespace, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.Namespaces.AnyAsync(n => n.Name == @namespace && n.AnonymousPull, ct);
    }

    /// <summary>The names of the namespaces the caller may pull from.</summary>
    public async Task<IReadOnlyList<string>> ReadableNamespacesAsync(Caller caller, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.Readable(caller).Select(n => n.Name).ToListAsync(ct);
    }

    /// <summary>Every <c>namespace/stream</c> the caller may read, in name order.</summary>
    public async Task<IReadOnlyList<string>> CatalogAsync(Caller caller, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var readable = db.Readable(caller).Select(n => n.Id);
        var names = await db.ImageStreams.AsNoTracking().Where(s => readable.Contains(s.NamespaceId))
            .Select(s => s.Namespace.Name + "/" + s.Name).ToListAsync(ct);
        return [.. names.Order(StringComparer.Ordinal)];
    }

    private static async Task<(Namespaces.Namespace Namespace, ImageStream Stream)> StreamAsync(DashboardDbContext db, Caller caller, string @namespace,
        string streamName, CancellationToken ct)
    {
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: false, ct);
        var stream = await db.ImageStreams.AsNoTracking().Include(s => s.SpecTags).Include(s => s.History)
            .FirstOrDefaultAsync(s => s.NamespaceId == ns.Id && s.Name == streamName, ct)
            ?? throw new NotFoundException($"Image stream '{@namespace}/{streamName}' does not exist.");
        return (ns, stream);
    }

    /// <summary>The history entry that recorded the image: its own, or for a platform manifest of a recorded list, the list's.</summary>
    private static async Task<TagEvent?> RecordedEntryAsync(DashboardDbContext db, ImageStream stream, Digest wanted, CancellationToken ct)
    {
        if (stream.History.FirstOrDefault(e => e.Image == wanted.ToString()) is { } own)
        {
            return own;
        }

        // A platform manifest of a recorded list: allowed, fetched from where its list came from.
        var parents = await db.Images.AsNoTracking().Where(i => stream.History.Select(e => e.Image).Contains(i.Digest)).ToListAsync(ct);
        var parent = parents.FirstOrDefault(p => p.Manifests.Any(m => m.Digest == wanted.ToString()));
        return parent is null ? null : stream.History.First(e => e.Image == parent.Digest);
    }

    private static Upstream UpstreamOf(ImageStream stream, TagEvent entry)
    {
        var reference = ImageReference.Parse(entry.DockerImageReference);
        return new Upstream(reference.Registry, reference.Repository, stream.FindTag(entry.Tag)?.Insecure ?? false);
    }

    /// <summary>With the namespace's credentials for the upstream and its digest mirrors, as imports use them.</summary>
    private async Task<T> WithSecretsAsync<T>(int namespaceId, Upstream upstream, Func<RegistryTarget, Task<T>> fetch, CancellationToken ct)
    {
        // Pull-through asks by digest only, so only digest mirrors answer it.
        var answer = await secrets.WithCredentialsAsync(namespaceId, ImageReference.Parse($"{upstream.Registry}/{upstream.Repository}:latest"),
            upstream.Insecure, fetch, ct);
        return answer.Value;
    }
}
