using System.Collections.Concurrent;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Policy;

/// <summary>
/// What the dashboard knows about images, for the policy's known-image, label, annotation and signedBy conditions and for
/// admission's digest pins, as seen from one namespace (docs/security.md): a tag reference resolves through a stream tag
/// of that namespace, else of a namespace an admin shared with the cluster, that imported exactly this reference under
/// its current spec; a digest is known when a stream of those namespaces recorded it. Never another namespace: an
/// Editor decides digests for their own workloads only. Read from the database through a bounded cache that forgets
/// after <see cref="Freshness"/>, and at once when any instance imports or annotates (<see cref="IInstanceSignals"/>);
/// never a registry call.
/// </summary>
public sealed class ImageFacts : IImageFacts
{
    private readonly IDbContextFactory<DashboardDbContext> _contexts;
    private readonly TimeProvider _clock;
    private readonly IInstanceSignals _signals;

    public ImageFacts(IDbContextFactory<DashboardDbContext> contexts, TimeProvider clock, IInstanceSignals signals)
    {
        _contexts = contexts;
        _clock = clock;
        _signals = signals;
        signals.Subscribe(InstanceTopics.ImageFacts, () =>
        {
            ForgetHere();
            return Task.CompletedTask;
        });
    }

    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(30);
    public const int MaxCachedImages = 10_000;

    private readonly ConcurrentDictionary<string, (Stored Image, long At)> _byDigest = new(StringComparer.Ordinal);

    /// <summary>
    /// A stored image as facts see it: its fact without signatures, per namespace the repositories its streams recorded it
    /// from, and per repository the trusted keys that verified a signature found there (decision 0017).
    /// </summary>
    private sealed record Stored(ImageFact Fact, IReadOnlyDictionary<string, HashSet<string>> RecordedFrom,
        IReadOnlyDictionary<string, IReadOnlyList<string>> SignedIn)
    {
        public IEnumerable<string> RecordedIn => RecordedFrom.Keys;

        /// <summary>The keys that verified it in any of <paramref name="repositories"/>: only looks made for those count.</summary>
        public ImageFact SignedThrough(IEnumerable<string> repositories)
        {
            var keys = repositories.Distinct().SelectMany(r => SignedIn.GetValueOrDefault(r) ?? []).Distinct().Order(StringComparer.Ordinal).ToList();
            return Fact with { SignedBy = keys.Count == 0 ? null : keys };
        }
    }
    private readonly SemaphoreSlim _sourcesLoading = new(1, 1);
    private volatile Sources? _sources;

    /// <summary>What a stream tag resolves its upstream reference to: the digest, and <c>namespace/stream</c> when it is a Local tag.</summary>
    private readonly record struct Resolved(string Digest, string? Local);

    /// <summary>
    /// Per namespace, every upstream reference (canonical) its stream tags resolve; the shared namespaces, in name order;
    /// and those of them that allow anonymous pulls.
    /// </summary>
    private sealed record Sources(Dictionary<string, Dictionary<string, Resolved>> ByNamespace, IReadOnlyList<string> Shared,
        IReadOnlySet<string> OpenToAnyone, long At)
    {
        /// <summary>The namespace itself, then the shared ones; null (an admin's view across the cluster) is every namespace.</summary>
        public IEnumerable<string> Scope(string? @namespace) =>
            @namespace is null ? ByNamespace.Keys.Order(StringComparer.Ordinal) : Shared.Where(s => s != @namespace).Prepend(@namespace);

        public bool InScope(string? @namespace, IEnumerable<string> recordedIn) =>
            @namespace is null || recordedIn.Any(n => n == @namespace || Shared.Contains(n));
    }

    public async ValueTask<ImageFact> LookupAsync(ImageReference reference, string? @namespace, CancellationToken ct)
    {
        var sources = await SourcesAsync(ct);
        if (reference.Digest is { } digest)
        {
            var stored = await ByDigestAsync(digest.ToString(), ct);
            if (stored.Fact.Known && !sources.InScope(@namespace, stored.RecordedIn))
            {
                return ImageFact.Unknown with { Digest = stored.Fact.Digest };
            }

            // Signed as the looks for the repositories the asking namespace (or a shared one) recorded it from found it:
            // an import into another namespace, from elsewhere, never changes it (docs/security.md).
            return stored.SignedThrough(stored.RecordedFrom.Where(r => @namespace is null || r.Key == @namespace || sources.Shared.Contains(r.Key))
                .SelectMany(r => r.Value));
        }

        var key = reference.ToString();
        foreach (var scope in sources.Scope(@namespace))
        {
            if (sources.ByNamespace.TryGetValue(scope, out var resolved) && resolved.TryGetValue(key, out var current))
            {
                // Known, with the labels of the image the tag imported from exactly this reference. A Local tag of a shared
                // namespace is pulled through the dashboard only when anyone may pull there: the workload's own
                // namespace has no login of it. Otherwise the pin names the source registry.
                // Signed as the look for exactly this reference's repository found it.
                var image = (await ByDigestAsync(current.Digest, ct)).SignedThrough([Signatures.ImageSignatures.RepositoryOf(reference)]);
                var local = scope == @namespace || sources.OpenToAnyone.Contains(scope) ? current.Local : null;
                return image with { Known = true, Digest = current.Digest, LocalRepository = local };
            }
        }

        return ImageFact.Unknown;
    }

    public void Forget()
    {
        ForgetHere();
        _ = _signals.PublishAsync(InstanceTopics.ImageFacts);
    }

    private void ForgetHere()
    {
        _byDigest.Clear();
        _sources = null;
    }

    private async ValueTask<Stored> ByDigestAsync(string digest, CancellationToken ct)
    {
        if (_byDigest.TryGetValue(digest, out var cached) && _clock.GetElapsedTime(cached.At) < Freshness)
        {
            return cached.Image;
        }

        await using var db = await _contexts.CreateDbContextAsync(ct);
        var image = await db.Images.AsNoTracking().Where(i => i.Digest == digest)
            .Select(i => new { i.Config, i.Annotations }).FirstOrDefaultAsync(ct);
        var recorded = image is null ? [] : await db.TagEvents.AsNoTracking().Where(e => e.Image == digest)
            .Join(db.ImageStreams, e => e.ImageStreamId, s => s.Id, (e, s) => new { Namespace = s.Namespace.Name, e.DockerImageReference })
            .Distinct().ToListAsync(ct);
        var recordedFrom = recorded.GroupBy(r => r.Namespace, StringComparer.Ordinal).ToDictionary(g => g.Key,
            g => g.Select(r => ImageReference.TryParse(r.DockerImageReference, out var from, out _) ? Signatures.ImageSignatures.RepositoryOf(from) : null)
                .OfType<string>().ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        // Verified at import (or at the last check, or re-verified after a key change): admission reads this, never a registry.
        var signedIn = image is null ? [] : (await db.ImageSignatures.AsNoTracking().Where(s => s.Digest == digest && s.Signed)
                .Select(s => new { s.Repository, s.VerifiedKeys }).ToListAsync(ct))
            .ToDictionary(s => s.Repository, s => s.VerifiedKeys, StringComparer.Ordinal);
        var fact = image is null
            ? ImageFact.Unknown with { Digest = digest }
            : new ImageFact(true, digest, image.Config.Labels, image.Annotations);
        if (_byDigest.Count >= MaxCachedImages)
        {
            _byDigest.Clear();
        }

        var stored = new Stored(fact, recordedFrom, signedIn);
        _byDigest[digest] = (stored, _clock.GetTimestamp());
        return stored;
    }

    private async ValueTask<Sources> SourcesAsync(CancellationToken ct)
    {
        var sources = _sources;
        if (sources is not null && _clock.GetElapsedTime(sources.At) < Freshness)
        {
            return sources;
        }

        await _sourcesLoading.WaitAsync(ct);
        try
        {
            sources = _sources;
            if (sources is not null && _clock.GetElapsedTime(sources.At) < Freshness)
            {
                return sources;
            }

            await using var db = await _contexts.CreateDbContextAsync(ct);
            var tags = await db.SpecTags.AsNoTracking().Where(t => t.FromKind == TagSourceKind.DockerImage)
                .Join(db.ImageStreams, t => t.ImageStreamId, s => s.Id, (t, s) => new { Tag = t, Stream = s })
                .Select(x => new
                {
                    x.Tag.FromName,
                    x.Tag.ReferencePolicy,
                    SpecGeneration = x.Tag.Generation,
                    Namespace = x.Stream.Namespace.Name,
                    Repository = x.Stream.Namespace.Name + "/" + x.Stream.Name,
                    Current = db.TagEvents.Where(e => e.ImageStreamId == x.Tag.ImageStreamId && e.Tag == x.Tag.Name)
                        .OrderByDescending(e => e.Generation).ThenByDescending(e => e.Id).Select(e => e.Image).FirstOrDefault(),
                    CurrentGeneration = db.TagEvents.Where(e => e.ImageStreamId == x.Tag.ImageStreamId && e.Tag == x.Tag.Name)
                        .Max(e => (long?)e.Generation),
                    ImportedUnderSpec = db.TagConditions.Any(c => c.ImageStreamId == x.Tag.ImageStreamId && c.Tag == x.Tag.Name
                        && c.Type == TagCondition.ImportSuccess && c.Status == "True" && c.Generation >= x.Tag.Generation),
                })
                .ToListAsync(ct);
            var byNamespace = new Dictionary<string, Dictionary<string, Resolved>>(StringComparer.Ordinal);
            foreach (var tag in tags)
            {
                // The tag's image came from its current source: recorded since the spec last changed, or a successful
                // import of the current spec found the digest it already had. A re-point whose import failed resolves to nothing.
                var fromCurrentSpec = tag.CurrentGeneration >= tag.SpecGeneration || tag.ImportedUnderSpec;
                if (tag.Current is null || !fromCurrentSpec || !ImageReference.TryParse(tag.FromName, out var source, out _))
                {
                    continue;
                }

                var resolved = byNamespace.TryGetValue(tag.Namespace, out var map) ? map : byNamespace[tag.Namespace] = new(StringComparer.Ordinal);
                var key = source.ToString();
                var local = tag.ReferencePolicy == ReferencePolicy.Local ? tag.Repository : null;
                if (!resolved.TryGetValue(key, out var known))
                {
                    resolved[key] = new Resolved(tag.Current, local);
                }
                else if (known.Local is null && local is not null && known.Digest == tag.Current)
                {
                    resolved[key] = known with { Local = local };
                }
            }

            var shared = await db.Namespaces.AsNoTracking().Where(n => n.Shared).OrderBy(n => n.Name)
                .Select(n => new { n.Name, n.AnonymousPull }).ToListAsync(ct);
            _sources = sources = new Sources(byNamespace, [.. shared.Select(n => n.Name)],
                shared.Where(n => n.AnonymousPull).Select(n => n.Name).ToHashSet(StringComparer.Ordinal), _clock.GetTimestamp());
            return sources;
        }
        finally
        {
            _sourcesLoading.Release();
        }
    }
}
