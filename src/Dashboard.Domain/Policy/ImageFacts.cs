using System.Collections.Concurrent;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Policy;

/// <summary>
/// What the dashboard knows about images, for the policy's known-image, label and annotation conditions: an image is
/// known when it was imported (its digest is stored) or when a stream tag follows its reference. Read from the database
/// through a bounded cache that forgets after <see cref="Freshness"/>, and at once when any instance imports or
/// annotates (<see cref="IInstanceSignals"/>); never a registry call.
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

    private readonly ConcurrentDictionary<string, (ImageFact Fact, long At)> _byDigest = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _sourcesLoading = new(1, 1);
    private volatile Sources? _sources;

    /// <summary>Every stream tag's upstream reference (canonical) with the digest it points at now.</summary>
    private sealed record Sources(Dictionary<string, (string? Digest, string? Local)> CurrentDigest, long At);

    public async ValueTask<ImageFact> LookupAsync(ImageReference reference, CancellationToken ct)
    {
        if (reference.Digest is { } digest)
        {
            return await ByDigestAsync(digest.ToString(), ct);
        }

        var sources = await SourcesAsync(ct);
        if (!sources.CurrentDigest.TryGetValue(reference.ToString(), out var current))
        {
            return ImageFact.Unknown;
        }

        // Followed by a stream tag: known, with the labels of the image the tag points at now (if it was imported).
        var image = current.Digest is null ? ImageFact.Unknown : await ByDigestAsync(current.Digest, ct);
        return image with { Known = true, Digest = current.Digest, LocalRepository = current.Local };
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

    private async ValueTask<ImageFact> ByDigestAsync(string digest, CancellationToken ct)
    {
        if (_byDigest.TryGetValue(digest, out var cached) && _clock.GetElapsedTime(cached.At) < Freshness)
        {
            return cached.Fact;
        }

        await using var db = await _contexts.CreateDbContextAsync(ct);
        var image = await db.Images.AsNoTracking().Where(i => i.Digest == digest)
            .Select(i => new { i.Config, i.Annotations }).FirstOrDefaultAsync(ct);
        var fact = image is null
            ? ImageFact.Unknown with { Digest = digest }
            : new ImageFact(true, digest, image.Config.Labels, image.Annotations);
        if (_byDigest.Count >= MaxCachedImages)
        {
            _byDigest.Clear();
        }

        _byDigest[digest] = (fact, _clock.GetTimestamp());
        return fact;
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
                .Select(t => new
                {
                    t.FromName,
                    t.ReferencePolicy,
                    Repository = db.ImageStreams.Where(s => s.Id == t.ImageStreamId).Select(s => s.Namespace.Name + "/" + s.Name).FirstOrDefault(),
                    Current = db.TagEvents.Where(e => e.ImageStreamId == t.ImageStreamId && e.Tag == t.Name)
                        .OrderByDescending(e => e.Generation).ThenByDescending(e => e.Id).Select(e => e.Image).FirstOrDefault(),
                })
                .ToListAsync(ct);
            var map = new Dictionary<string, (string? Digest, string? Local)>(StringComparer.Ordinal);
            foreach (var tag in tags)
            {
                if (!ImageReference.TryParse(tag.FromName, out var source, out _))
                {
                    continue;
                }

                map.TryGetValue(source.ToString(), out var known);
                map[source.ToString()] = (known.Digest ?? tag.Current,
                    known.Local ?? (tag.ReferencePolicy == ReferencePolicy.Local && tag.Current is not null ? tag.Repository : null));
            }

            _sources = sources = new Sources(map, _clock.GetTimestamp());
            return sources;
        }
        finally
        {
            _sourcesLoading.Release();
        }
    }
}
