using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Images;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.ImageStreams;

public enum ImageStreamSort
{
    Name,
    Namespace,
    Tags,
    Created,
}

/// <summary>A page request for the image stream list; <see cref="Search"/> matches the namespace or the name.</summary>
public sealed record ImageStreamQuery(
    string? Search = null, ImageStreamSort SortBy = ImageStreamSort.Namespace, bool Descending = false, int Skip = 0, int Take = 25);

public sealed record ImageStreamRow(string Namespace, string Name, int Tags, DateTime CreatedAt, DateTime? LastChange);

/// <summary>What the editor of a spec tag sends.</summary>
public sealed record TagSpec(
    string Name, TagSourceKind FromKind, string? From, string? FromNamespace = null, bool Scheduled = false, bool Insecure = false,
    ImportMode ImportMode = ImportMode.PreserveOriginal, ReferencePolicy ReferencePolicy = ReferencePolicy.Source,
    IReadOnlyDictionary<string, string>? Annotations = null, int? IntervalSeconds = null);

/// <summary>A stream as its reader sees it, and whether they may change it.</summary>
/// <param name="SignedBy">Per current image digest of its tags, the trusted keys that verified a signature of it (absent: unsigned).</param>
public sealed record ImageStreamView(ImageStream Stream, bool CanEdit, IReadOnlyDictionary<string, IReadOnlyList<string>>? SignedBy = null)
{
    /// <summary>The trusted keys that signed the tag's current image; empty when unsigned or not imported.</summary>
    public IReadOnlyList<string> SignedByOf(string tag) =>
        Stream.CurrentImage(tag) is { } current && SignedBy?.GetValueOrDefault(current.Image) is { } keys ? keys : [];
}

/// <summary>Lists, reads and changes image streams and their spec tags, within the caller's namespaces.</summary>
public sealed class ImageStreamService(IDbContextFactory<DashboardDbContext> contexts, TimeProvider clock, Policy.IImageFacts facts,
    ScheduleSettings schedule)
{
    public const int MaxMetadataEntries = 64;
    public const int MaxMetadataKeyLength = 317;
    public const int MaxMetadataValueLength = 4096;

    /// <summary>One page of the streams in every namespace the caller may read; searching, sorting and paging run in the database.</summary>
    public async Task<Page<ImageStreamRow>> QueryAsync(Caller caller, ImageStreamQuery query, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var readable = db.Readable(caller).Select(n => n.Id);
        var streams = db.ImageStreams.AsNoTracking().Where(s => readable.Contains(s.NamespaceId));
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = query.Search.Trim().ToLowerInvariant();
            var slash = term.IndexOf('/');
            if (slash > 0)
            {
                // "namespace/name" narrows to one namespace, as people copy it from a pull reference.
                var ns = term[..slash];
                var name = term[(slash + 1)..];
                streams = streams.Where(s => s.Namespace.Name == ns && s.Name.Contains(name));
            }
            else
            {
                streams = streams.Where(s => s.Name.Contains(term) || s.Namespace.Name.Contains(term));
            }
        }

        var total = await streams.CountAsync(ct);
        streams = (query.SortBy, query.Descending) switch
        {
            (ImageStreamSort.Name, false) => streams.OrderBy(s => s.Name).ThenBy(s => s.Namespace.Name),
            (ImageStreamSort.Name, true) => streams.OrderByDescending(s => s.Name).ThenBy(s => s.Namespace.Name),
            (ImageStreamSort.Tags, false) => streams.OrderBy(s => s.SpecTags.Count).ThenBy(s => s.Name),
            (ImageStreamSort.Tags, true) => streams.OrderByDescending(s => s.SpecTags.Count).ThenBy(s => s.Name),
            (ImageStreamSort.Created, false) => streams.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id),
            (ImageStreamSort.Created, true) => streams.OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id),
            (_, false) => streams.OrderBy(s => s.Namespace.Name).ThenBy(s => s.Name),
            (_, true) => streams.OrderByDescending(s => s.Namespace.Name).ThenByDescending(s => s.Name),
        };
        var items = await streams.Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 500))
            .Select(s => new ImageStreamRow(
                s.Namespace.Name, s.Name, s.SpecTags.Count, s.CreatedAt, s.History.Max(e => (DateTime?)e.Created)))
            .ToListAsync(ct);
        return new Page<ImageStreamRow>(items, total);
    }

    public async Task<ImageStreamView> GetAsync(Caller caller, string @namespace, string name, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: false, ct);
        var stream = await LoadAsync(db, ns, name, ct);
        // Signed as the looks in the repositories this stream's tags imported their current images from found them.
        var current = stream.TagNames().Select(t => stream.CurrentImage(t)).OfType<TagEvent>()
            .Select(e => (e.Image, Repository: ImageReference.TryParse(e.DockerImageReference, out var from, out _) ? Signatures.ImageSignatures.RepositoryOf(from) : ""))
            .Distinct().ToList();
        var digests = current.Select(c => c.Image).Distinct().ToList();
        var rows = await db.ImageSignatures.AsNoTracking().Where(s => digests.Contains(s.Digest) && s.Signed)
            .Select(s => new { s.Digest, s.Repository, s.VerifiedKeys }).ToListAsync(ct);
        var signed = rows.Where(r => current.Contains((r.Digest, r.Repository))).GroupBy(r => r.Digest)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.SelectMany(r => r.VerifiedKeys).Distinct().Order(StringComparer.Ordinal)]);
        return new ImageStreamView(stream, await db.RoleAsync(caller, ns.Id, ct) == NamespaceRole.Editor, signed);
    }

    public async Task<ImageStream> CreateAsync(Caller caller, string @namespace, string? name,
        IReadOnlyDictionary<string, string>? labels = null, IReadOnlyDictionary<string, string>? annotations = null, CancellationToken ct = default)
    {
        name = name?.Trim();
        var errors = new Dictionary<string, string[]>();
        if (ImageStreamName.Validate(name) is { } problem)
        {
            errors["name"] = [problem];
        }

        ValidateMetadata(labels, "labels", errors);
        ValidateMetadata(annotations, "annotations", errors);
        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        if (await db.ImageStreams.AnyAsync(s => s.NamespaceId == ns.Id && s.Name == name, ct))
        {
            throw new ConflictException("name", $"Image stream '{name}' already exists in namespace '{ns.Name}'.");
        }

        var stream = new ImageStream(ns, name!, labels, annotations, clock.GetUtcNow().UtcDateTime);
        db.ImageStreams.Add(stream);
        AuditTrail.Record(db, clock, caller, "created", "ImageStream", ns.Name, stream.Name, "image stream created");
        await db.SaveUniqueAsync("name", $"Image stream '{name}' already exists in namespace '{ns.Name}'.", ct);
        return stream;
    }

    public async Task DeleteAsync(Caller caller, string @namespace, string name, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        var stream = await LoadAsync(db, ns, name, ct);
        db.ImageStreams.Remove(stream);
        AuditTrail.Record(db, clock, caller, "deleted", "ImageStream", ns.Name, stream.Name,
            $"image stream deleted with tags: {string.Join(", ", stream.TagNames()).DefaultIfEmpty("none")}");
        await db.SaveCheckedAsync(ct);
        facts.Forget();
    }

    /// <summary>
    /// Creates or changes a spec tag (<c>oc tag</c>). A change raises the tag's generation, which marks an import as due.
    /// Tagging into a stream that does not exist creates it, for admins only.
    /// </summary>
    public async Task<TagReference> SetTagAsync(Caller caller, string @namespace, string name, TagSpec spec, CancellationToken ct = default)
    {
        var errors = new Dictionary<string, string[]>();
        if (TagName.Validate(spec.Name) is { } problem)
        {
            errors["name"] = [problem];
        }

        TagSource? from = null;
        try
        {
            from = TagSource.Validated(spec.FromKind, spec.From?.Trim(), string.IsNullOrWhiteSpace(spec.FromNamespace) ? null : spec.FromNamespace.Trim(), "from");
        }
        catch (ValidationFailedException e)
        {
            foreach (var (field, messages) in e.Errors)
            {
                errors[field] = messages;
            }
        }

        ValidateMetadata(spec.Annotations, "annotations", errors);
        if (spec.IntervalSeconds is < 1 or > 31_536_000)
        {
            errors["intervalSeconds"] = ["The interval is between 1 second and a year; the admin minimum still applies."];
        }

        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        if (from!.Kind == TagSourceKind.ImageStreamTag && from.Namespace is { } source && source != ns.Name && !await db.CanReadAsync(caller, source, ct))
        {
            // One answer whether the namespace is missing or closed to the caller: following it must not tell which.
            throw new ForbiddenException($"You may not follow tags of namespace '{source}': that needs read access to it.");
        }

        var stream = await LoadOrCreateForTaggingAsync(db, caller, ns, name, clock, ct);
        var before = stream.FindTag(spec.Name)?.Describe();
        var tag = stream.SetTag(spec.Name, from, spec.Scheduled, spec.Insecure, spec.ImportMode, spec.ReferencePolicy, spec.Annotations, spec.IntervalSeconds,
            caller.UserId);
        AuditTrail.Record(db, clock, caller, before is null ? "created" : "changed", "Tag", ns.Name, $"{stream.Name}:{tag.Name}",
            before is null ? tag.Describe() : $"{before} → {tag.Describe()}");
        await db.SaveUniqueAsync("name", "Someone else created this stream or tag at the same time; reload and try again.", ct);
        await ScheduleNowAsync(db, stream.Id, tag, ct);
        // A re-pointed tag resolves nothing until its new source is imported (docs/security.md): admission must not wait 30 s to learn it.
        facts.Forget();
        return tag;
    }

    /// <summary>
    /// A newly scheduled tag has its schedule from the moment it is saved, not from the scheduler's next tick: the import
    /// that follows at set time is its first check, shown (and counted as failing) on the Schedules page like any other.
    /// </summary>
    private async Task ScheduleNowAsync(DashboardDbContext db, int streamId, TagReference tag, CancellationToken ct)
    {
        if (!tag.Scheduled || await db.TagSchedules.AnyAsync(s => s.ImageStreamId == streamId && s.Tag == tag.Name, ct))
        {
            return;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var first = SchedulePlanner.FirstCheck(now, SchedulePlanner.Interval(tag.IntervalSeconds, schedule.Current), Random.Shared.NextDouble());
        db.TagSchedules.Add(new TagSchedule(streamId, tag.Name, first));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // The scheduler's tick created it in the meantime: one schedule per tag either way.
            db.ChangeTracker.Clear();
        }
    }

    public async Task DeleteTagAsync(Caller caller, string @namespace, string name, string tag, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        var stream = await LoadAsync(db, ns, name, ct);
        var before = stream.FindTag(tag)?.Describe() ?? tag;
        if (!stream.RemoveTag(tag))
        {
            throw new NotFoundException($"Image stream '{ns.Name}/{name}' has no tag '{tag}'.");
        }

        AuditTrail.Record(db, clock, caller, "deleted", "Tag", ns.Name, $"{stream.Name}:{tag}", before);
        await db.SaveCheckedAsync(ct);
        facts.Forget();
    }

    /// <summary>
    /// Records that <paramref name="tag"/> points at <paramref name="image"/> when the metadata arrives by other means than
    /// the registry importer (<see cref="Import.ImageImporter"/> does the same for registry imports): the image (shared by
    /// digest), a history entry when the tag moved, and the ImportSuccess condition, in one save. Tests use it to have
    /// images without a registry.
    /// </summary>
    public async Task<TagEvent?> RecordImportAsync(Caller caller, string @namespace, string name, string tag, Image image, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        var stream = await LoadAsync(db, ns, name, ct);
        if (!await db.Images.AnyAsync(i => i.Digest == image.Digest, ct))
        {
            db.Images.Add(image);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var digest = Digest.Parse(image.Digest);
        var entry = stream.RecordImage(tag, ImageReference.Parse(image.DockerImageReference), digest, now);
        stream.SetCondition(tag, TagCondition.ImportSuccess, true, "Imported", $"Imported {digest.Short}", now);
        if (entry is not null)
        {
            AuditTrail.Record(db, clock, caller, "imported", "Tag", ns.Name, $"{stream.Name}:{tag}", $"now {image.Digest}");
        }

        await db.SaveCheckedAsync(ct);
        return entry;
    }

    /// <summary>
    /// The stream to tag into; tagging into a stream that does not exist creates it for an admin (the seed's policy) and
    /// is refused for anyone else.
    /// </summary>
    internal static async Task<ImageStream> LoadOrCreateForTaggingAsync(DashboardDbContext db, Caller caller, Namespace ns, string name,
        TimeProvider clock, CancellationToken ct)
    {
        var stream = await db.ImageStreams.Include(s => s.Namespace).Include(s => s.SpecTags).Include(s => s.History).Include(s => s.Conditions)
            .AsSplitQuery().FirstOrDefaultAsync(s => s.NamespaceId == ns.Id && s.Name == name, ct);
        if (stream is not null)
        {
            return stream;
        }

        if (!caller.IsAdmin)
        {
            throw new ForbiddenException($"image stream {ns.Name}/{name} does not exist; only administrators can create image streams by tagging");
        }

        if (ImageStreamName.Validate(name) is { } problem)
        {
            throw new ValidationFailedException("name", problem);
        }

        stream = new ImageStream(ns, name, null, null, clock.GetUtcNow().UtcDateTime);
        db.ImageStreams.Add(stream);
        AuditTrail.Record(db, clock, caller, "created", "ImageStream", ns.Name, name, "image stream created by tagging");
        return stream;
    }

    private static async Task<ImageStream> LoadAsync(DashboardDbContext db, Namespace ns, string name, CancellationToken ct) =>
        await db.ImageStreams
            .Include(s => s.Namespace)
            .Include(s => s.SpecTags)
            .Include(s => s.History)
            .Include(s => s.Conditions)
            .AsSplitQuery()
            .FirstOrDefaultAsync(s => s.NamespaceId == ns.Id && s.Name == name, ct)
        ?? throw new NotFoundException($"Image stream '{ns.Name}/{name}' does not exist.");

    private static void ValidateMetadata(IReadOnlyDictionary<string, string>? entries, string field, Dictionary<string, string[]> errors)
    {
        if (entries is null)
        {
            return;
        }

        if (entries.Count > MaxMetadataEntries)
        {
            errors[field] = [$"At most {MaxMetadataEntries} {field}."];
            return;
        }

        var problems = entries
            .Select(e => string.IsNullOrWhiteSpace(e.Key) ? "A key cannot be empty."
                : e.Key.Length > MaxMetadataKeyLength ? $"Key '{e.Key[..20]}…' is longer than {MaxMetadataKeyLength} characters."
                : (e.Value?.Length ?? 0) > MaxMetadataValueLength ? $"The value of '{e.Key}' is longer than {MaxMetadataValueLength} characters."
                : null)
            .OfType<string>().ToArray();
        if (problems.Length > 0)
        {
            errors[field] = problems;
        }
    }
}

internal static class EnumerableText
{
    public static string DefaultIfEmpty(this string text, string fallback) => text.Length == 0 ? fallback : text;
}
