using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Images;

/// <summary>A stream tag that points, or once pointed, at an image.</summary>
public sealed record ImageUse(string Namespace, string Stream, string Tag, bool Current, DateTime Since);

/// <param name="Signatures">
/// What the last look for its cosign signatures found, per repository it was imported from that the caller may see (a
/// stream in a namespace they read recorded it from there; admins: all); empty: never looked.
/// </param>
public sealed record ImageDetails(Image Image, IReadOnlyList<ImageUse> UsedBy, IReadOnlyList<Signatures.ImageSignatures>? Signatures = null);

/// <summary>Reads images and their annotations. An image is visible to a caller through the streams they may read.</summary>
public sealed class ImageCatalog(IDbContextFactory<DashboardDbContext> contexts, Policy.IImageFacts facts, TimeProvider clock)
{
    public const int MaxAnnotations = 64;

    public async Task<ImageDetails> GetAsync(Caller caller, string digest, CancellationToken ct = default)
    {
        var parsed = ParseDigest(digest);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Digest == parsed, ct);
        var uses = await UsesAsync(db, caller, parsed, ct);
        if (image is null || (!caller.IsAdmin && uses.Count == 0))
        {
            throw new NotFoundException($"Image {digest} is not known to the dashboard.");
        }

        var signatures = await db.ImageSignatures.AsNoTracking().Where(s => s.Digest == parsed).OrderBy(s => s.Repository).ToListAsync(ct);
        if (!caller.IsAdmin)
        {
            var readable = db.Readable(caller).Select(n => n.Id);
            var references = await db.TagEvents.AsNoTracking().Where(e => e.Image == parsed)
                .Join(db.ImageStreams.Where(s => readable.Contains(s.NamespaceId)), e => e.ImageStreamId, s => s.Id, (e, _) => e.DockerImageReference)
                .Distinct().ToListAsync(ct);
            var repositories = references.Select(r => ImageReference.TryParse(r, out var from, out _) ? Signatures.ImageSignatures.RepositoryOf(from) : null)
                .OfType<string>().ToHashSet(StringComparer.Ordinal);
            signatures = [.. signatures.Where(s => repositories.Contains(s.Repository))];
        }

        return new ImageDetails(image, uses, signatures);
    }

    /// <summary>Replaces the image's annotations as a whole (admins, and scanners with an admin token).</summary>
    public async Task<Image> SetAnnotationsAsync(Caller caller, string digest, IReadOnlyDictionary<string, string> annotations, CancellationToken ct = default)
    {
        caller.RequireAdmin("annotate images");
        var parsed = ParseDigest(digest);
        var bad = annotations.Where(a => string.IsNullOrWhiteSpace(a.Key) || a.Key.Length > 317 || (a.Value?.Length ?? 0) > 4096)
            .Select(a => a.Key).FirstOrDefault();
        if (annotations.Count > MaxAnnotations || bad is not null)
        {
            throw new ValidationFailedException("annotations",
                bad is null ? $"At most {MaxAnnotations} annotations." : $"Annotation '{bad}' needs a key of 1 to 317 characters and a value of at most 4096.");
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var image = await db.Images.FirstOrDefaultAsync(i => i.Digest == parsed, ct)
            ?? throw new NotFoundException($"Image {digest} is not known to the dashboard.");
        var before = Describe(image.Annotations);
        image.ReplaceAnnotations(annotations);
        AuditTrail.Record(db, clock, caller, "changed", "Image", null, parsed, $"annotations {before} → {Describe(image.Annotations)}");
        await db.SaveCheckedAsync(ct);
        facts.Forget();
        return image;
    }

    private static async Task<IReadOnlyList<ImageUse>> UsesAsync(DashboardDbContext db, Caller caller, string digest, CancellationToken ct)
    {
        var readable = db.Readable(caller).Select(n => n.Id);
        var events = await db.TagEvents.AsNoTracking()
            .Where(e => e.Image == digest)
            .Join(db.ImageStreams.Where(s => readable.Contains(s.NamespaceId)), e => e.ImageStreamId, s => s.Id,
                (e, s) => new { Namespace = s.Namespace.Name, Stream = s.Name, s.Id, e.Tag, e.Created })
            .ToListAsync(ct);
        if (events.Count == 0)
        {
            return [];
        }

        // A use is current when no newer entry of the same tag exists.
        var streamIds = events.Select(e => e.Id).Distinct().ToList();
        var newest = await db.TagEvents.AsNoTracking()
            .Where(e => streamIds.Contains(e.ImageStreamId))
            .GroupBy(e => new { e.ImageStreamId, e.Tag })
            .Select(g => new { g.Key.ImageStreamId, g.Key.Tag, Created = g.Max(e => e.Created) })
            .ToListAsync(ct);
        return [.. events
            .Select(e => new ImageUse(e.Namespace, e.Stream, e.Tag,
                newest.Any(n => n.ImageStreamId == e.Id && n.Tag == e.Tag && n.Created == e.Created), e.Created))
            .OrderByDescending(u => u.Current).ThenBy(u => u.Namespace).ThenBy(u => u.Stream).ThenBy(u => u.Tag)];
    }

    private static string ParseDigest(string digest) =>
        Digest.TryParse(digest, out var parsed, out var error) ? parsed.ToString() : throw new ValidationFailedException("digest", error);

    private static string Describe(IReadOnlyDictionary<string, string> annotations) =>
        annotations.Count == 0 ? "{}" : "{" + string.Join(", ", annotations.OrderBy(a => a.Key).Select(a => $"{a.Key}={a.Value}")) + "}";
}
