using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Dashboard.Domain.Access;
using Dashboard.Domain.Diagnostics;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Policy;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Signatures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Dashboard.Domain.Import;

/// <summary>The result of importing one tag, as the API and the console show it.</summary>
public sealed record ImportOutcome(string Tag, string? Image, bool Changed, bool Succeeded, string Reason, string Message);

/// <summary>
/// Imports a spec tag's image metadata from its registry with the namespace's pull secrets (OpenShift's
/// <c>oc import-image</c>): manifest, config, layers, platforms. A tag that already holds an image is checked with one
/// <c>HEAD</c> first and nothing more is fetched when the digest did not change. A failure sets ImportSuccess=False with
/// its reason and keeps the tag's image: nothing is lost. With trusted keys, the fetch also looks for the image's cosign
/// signatures and verifies them (decision 0017), so import rules that ask for a signature judge before anything is
/// recorded. The importer only fetches and records into the stream; what
/// follows from what the stream raised (change event, audit, schedule, caches) is done by <see cref="ITagImportHandler"/>s
/// in the same save (decision 0015).
/// </summary>
public sealed class ImageImporter(
    IDbContextFactory<DashboardDbContext> contexts, RegistryClient registry, PullSecretService secrets, PolicyStore policy, IImageFacts facts,
    IEnumerable<ITagImportHandler> handlers, SignatureChecks signatures, TimeProvider clock, ILogger<ImageImporter> logger)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _running = new();

    /// <summary>
    /// Imports one tag. Imports of the same tag on this instance run one after the other (a double click does not race
    /// itself); imports of different tags run in parallel. <paramref name="heads"/> is given by scheduled checks, which
    /// share upstream <c>HEAD</c>s; without it the import is a manual one, and the tag's next scheduled check moves an
    /// interval later.
    /// </summary>
    public async Task<ImportOutcome> ImportTagAsync(Caller caller, string @namespace, string streamName, string tag, CancellationToken ct = default,
        UpstreamHeads? heads = null)
    {
        var key = new TagKey(@namespace, streamName, tag);
        return (await ImportAsync(caller, [key], new ImportBatch { Heads = heads }, requireAll: true, ct))[key];
    }

    /// <summary>
    /// Imports several tags as one unit of work: one access check per namespace, one read of the tags' rows, the
    /// namespaces' pull secrets read once, fetches <see cref="ImportBatch.Concurrency"/> at a time, and saves of whatever
    /// has arrived (at most <see cref="SaveEvery"/> tags each). Tags that no longer exist are left out of the answer.
    /// </summary>
    public Task<IReadOnlyDictionary<TagKey, ImportOutcome>> ImportTagsAsync(Caller caller, IReadOnlyList<TagKey> tags, ImportBatch batch,
        CancellationToken ct = default) =>
        ImportAsync(caller, tags, batch, requireAll: false, ct);

    /// <summary>The most tags one save of a batch holds: a failed save costs no more than this many imports.</summary>
    public const int SaveEvery = 50;

    private async Task<IReadOnlyDictionary<TagKey, ImportOutcome>> ImportAsync(Caller caller, IReadOnlyList<TagKey> tags, ImportBatch batch, bool requireAll,
        CancellationToken ct)
    {
        var keys = tags.Distinct().OrderBy(k => k.ToString(), StringComparer.Ordinal).ToList();
        var held = new List<SemaphoreSlim>(keys.Count);
        try
        {
            // Taken in one order by every batch, so two batches that share tags wait for each other, never each for the other.
            foreach (var key in keys)
            {
                var gate = _running.GetOrAdd(key.ToString(), _ => new SemaphoreSlim(1, 1));
                await gate.WaitAsync(ct);
                held.Add(gate);
            }

            return await ImportHeldAsync(caller, keys, batch, requireAll, ct);
        }
        finally
        {
            foreach (var gate in held)
            {
                gate.Release();
            }
        }
    }

    private async Task<IReadOnlyDictionary<TagKey, ImportOutcome>> ImportHeldAsync(Caller caller, IReadOnlyList<TagKey> keys, ImportBatch batch,
        bool requireAll, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var work = await LoadAsync(db, caller, keys, requireAll, ct);
        var shared = new Shared(batch.Heads, new CredentialBatch(), new BatchImages(), signatures.Batch());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Fetching runs in parallel and touches no shared state; recording into the streams and saving is this one loop.
        var fetched = Channel.CreateUnbounded<TagWork>();
        var fetching = Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, batch.Concurrency), CancellationToken = stop.Token },
            async (item, token) =>
            {
                if (batch.Progress is { } progress)
                {
                    await progress(item.Key, null);
                }

                await FetchTagAsync(caller, item, shared, token);
                fetched.Writer.TryWrite(item);
            });
        _ = fetching.ContinueWith(t => fetched.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);

        var unit = new TagImportContext(db, caller, scheduled: batch.Heads is not null, keys);
        var outcomes = new Dictionary<TagKey, ImportOutcome>();
        var unsaved = new List<TagWork>();
        try
        {
            await foreach (var item in fetched.Reader.ReadAllAsync(ct))
            {
                outcomes[item.Key] = await RecordAsync(db, unit, item, shared.Signatures, ct);
                unsaved.Add(item);
                if (unsaved.Count >= SaveEvery || fetched.Reader.Count == 0)
                {
                    await SaveAsync(db, unit, unsaved, outcomes, batch, ct);
                }
            }

            await fetching;
            await SaveAsync(db, unit, unsaved, outcomes, batch, ct);
        }
        finally
        {
            await stop.CancelAsync();
        }

        await secrets.RecordUsesAsync(shared.Credentials, ct);
        return outcomes;
    }

    /// <summary>The batch's tags with their rows: one access check per namespace, one read (split by table) for every stream.</summary>
    private static async Task<List<TagWork>> LoadAsync(DashboardDbContext db, Caller caller, IReadOnlyList<TagKey> keys, bool requireAll, CancellationToken ct)
    {
        var namespaces = new Dictionary<string, Namespaces.Namespace>(StringComparer.Ordinal);
        foreach (var name in keys.Select(k => k.Namespace).Distinct())
        {
            namespaces[name] = await db.RequireNamespaceAsync(caller, name, write: true, ct);
        }

        var namespaceIds = namespaces.Values.Select(n => n.Id).ToList();
        var streamNames = keys.Select(k => k.Stream).Distinct().ToList();
        var tagNames = keys.Select(k => k.Tag).Distinct().ToList();
        // Only these tags' spec, history and conditions: an import touches nothing else of a stream, and loading whole
        // streams made each of a 200-tag repository import's imports cost more the more tags the stream had.
        var streams = await db.ImageStreams.Include(s => s.Namespace)
            .Include(s => s.SpecTags.Where(t => tagNames.Contains(t.Name)))
            .Include(s => s.History.Where(e => tagNames.Contains(e.Tag)))
            .Include(s => s.Conditions.Where(c => tagNames.Contains(c.Tag)))
            .AsSplitQuery()
            .Where(s => namespaceIds.Contains(s.NamespaceId) && streamNames.Contains(s.Name))
            .ToListAsync(ct);
        var work = new List<TagWork>(keys.Count);
        foreach (var key in keys)
        {
            var ns = namespaces[key.Namespace];
            var stream = streams.Find(s => s.NamespaceId == ns.Id && s.Name == key.Stream);
            var spec = stream?.FindTag(key.Tag);
            if (stream is not null && spec is not null)
            {
                // Read before any fetch: recording into the stream later must not race a fetch that reads its history.
                work.Add(new TagWork(key, ns, stream, spec, UpToDate(stream, spec) ? stream.CurrentImage(key.Tag) : null));
            }
            else if (requireAll)
            {
                throw new NotFoundException(stream is null
                    ? $"Image stream '{ns.Name}/{key.Stream}' does not exist."
                    : $"Image stream '{ns.Name}/{key.Stream}' has no tag '{key.Tag}'.");
            }
        }

        return work;
    }

    /// <summary>Fetches one tag's image from its source (its registry, or the stream tag it follows), and keeps the answer or the failure on it.</summary>
    private async Task FetchTagAsync(Caller caller, TagWork item, Shared shared, CancellationToken ct)
    {
        // Ended when the tag is recorded: the span covers the fetch and says how it went.
        item.Span = DashboardTelemetry.Source.StartActivity("import");
        item.Span?.SetTag("dashboard.namespace", item.Key.Namespace).SetTag("dashboard.stream", item.Key.Stream).SetTag("dashboard.tag", item.Key.Tag)
            .SetTag("dashboard.scheduled", shared.Heads is not null);
        item.StartedAt = clock.GetUtcNow().UtcDateTime;
        try
        {
            // Reads of its own (known images, a followed tag): the batch's context is the recording loop's alone.
            await using var db = await contexts.CreateDbContextAsync(ct);
            var spec = item.Spec;
            // Rules that ask for a signature judge once the signatures are fetched; all others before anything is fetched.
            var afterFetch = spec.FromKind == TagSourceKind.DockerImage
                && (await policy.CurrentAsync(ct)).ReadsSignatures(item.Namespace.Name, PolicyResources.Imports);
            if (spec.FromKind == TagSourceKind.DockerImage && !afterFetch)
            {
                await RequireAllowedAsync(item.Namespace.Name, spec.FromName, facts, ct);
            }

            var result = spec.FromKind == TagSourceKind.ImageStreamTag
                ? await FollowStreamTagAsync(db, caller, item.Namespace.Name, spec, ct)
                : await FetchAsync(db, item.Namespace.Id, spec, item.Current, shared, ct);
            if (afterFetch)
            {
                await RequireAllowedAsync(item.Namespace.Name, spec.FromName, new FetchedFacts(facts, result.Digest, result.Signatures), ct);
            }

            item.Result = result;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            item.Failure = e;
        }
    }

    /// <summary>Records one fetched tag into its stream, and has the handlers react to what the stream raised.</summary>
    private async Task<ImportOutcome> RecordAsync(DashboardDbContext db, TagImportContext unit, TagWork item, SignatureBatch signatureBatch,
        CancellationToken ct)
    {
        var (key, stream, at) = (item.Key, item.Stream, item.StartedAt);
        ImportOutcome outcome;
        switch (item.Failure)
        {
            case null:
                var fetched = item.Result!;
                foreach (var image in fetched.ToStore)
                {
                    // Each digest once per unit of work (not through DbSet.Local, which detects every tracked entity's changes);
                    // one stored meanwhile by another import is left out by the save (SaveSharingImagesAsync).
                    if (unit.FirstImage(image.Digest))
                    {
                        db.Images.Add(image);
                    }
                }

                if (await signatureBatch.RecordAsync(db, fetched.Signatures, ct))
                {
                    // Admission reads which keys signed an image from the cached facts.
                    unit.OnCommitted(() =>
                    {
                        facts.Forget();
                        return Task.CompletedTask;
                    });
                }

                var note = fetched.Signatures.FirstOrDefault(s => s.Failure is not null) is { } failed
                    ? $"{fetched.Note}; signatures not checked: {failed.Failure}"
                    : fetched.Note;
                var entry = stream.RecordImport(key.Tag, fetched.Source, fetched.Digest, note, at);
                outcome = new ImportOutcome(key.Tag, fetched.Digest.ToString(), entry is not null, true, entry is null ? "Unchanged" : "Imported", note);
                break;
            case RegistryException e:
                logger.LogInformation("Import of {Namespace}/{Stream}:{Tag} failed: {Reason} {Message}", key.Namespace, key.Stream, key.Tag, e.Reason, e.Message);
                stream.RecordImportFailure(key.Tag, e.Reason.ToString(), e.Message, at);
                outcome = new ImportOutcome(key.Tag, stream.CurrentImage(key.Tag)?.Image, false, false, e.Reason.ToString(), e.Message);
                break;
            case DashboardException e:
                // Not the registry's answer but a refusal of the request itself (access): the caller hears it.
                ExceptionDispatchInfo.Throw(e);
                return null!;
            case var e:
                // Whatever else a registry's answer breaks is still an import failure with a condition, never a lost tag or a 500.
                logger.LogWarning(e, "Import of {Namespace}/{Stream}:{Tag} failed unexpectedly", key.Namespace, key.Stream, key.Tag);
                var message = $"The registry's answer could not be used ({e.GetType().Name}: {e.Message}).";
                stream.RecordImportFailure(key.Tag, nameof(RegistryFailure.InvalidManifest), message, at);
                outcome = new ImportOutcome(key.Tag, stream.CurrentImage(key.Tag)?.Image, false, false, nameof(RegistryFailure.InvalidManifest), message);
                break;
        }

        // The stream recorded what happened; the handlers do the rest (change event, audit, schedule, caches) in this save.
        foreach (var raised in stream.TakeRaised())
        {
            foreach (var handler in handlers)
            {
                await handler.HandleAsync(unit, raised, ct);
            }
        }

        item.Span?.SetTag("dashboard.import.result", outcome.Reason).SetTag("dashboard.image", outcome.Image);
        if (!outcome.Succeeded)
        {
            item.Span?.SetStatus(ActivityStatusCode.Error, outcome.Reason);
        }

        item.Span?.Dispose();
        return outcome;
    }

    /// <summary>Saves what was recorded, then runs the follow-ups and tells the batch's progress which tags are done.</summary>
    private async Task SaveAsync(DashboardDbContext db, TagImportContext unit, List<TagWork> unsaved, Dictionary<TagKey, ImportOutcome> outcomes,
        ImportBatch batch, CancellationToken ct)
    {
        if (unsaved.Count == 0)
        {
            return;
        }

        await SaveSharingImagesAsync(db, ct);
        await unit.CommittedAsync(logger);
        if (batch.Progress is { } progress)
        {
            foreach (var item in unsaved)
            {
                await progress(item.Key, outcomes[item.Key]);
            }
        }

        unsaved.Clear();
    }

    /// <summary>One tag of a batch on its way: its rows, what its fetch brought or why it failed, and its span.</summary>
    private sealed class TagWork(TagKey key, Namespaces.Namespace @namespace, ImageStream stream, TagReference spec, TagEvent? current)
    {
        public TagKey Key { get; } = key;

        public Namespaces.Namespace Namespace { get; } = @namespace;

        public ImageStream Stream { get; } = stream;

        public TagReference Spec { get; } = spec;

        /// <summary>The tag's image when its last import was of the current spec: the HEAD short-cut compares with it.</summary>
        public TagEvent? Current { get; } = current;

        public DateTime StartedAt { get; set; }

        public Fetched? Result { get; set; }

        public Exception? Failure { get; set; }

        public Activity? Span { get; set; }
    }

    /// <summary>What the fetches of one batch share: upstream answers, pull secrets, images.</summary>
    private sealed record Shared(UpstreamHeads? Heads, CredentialBatch Credentials, BatchImages Images, SignatureBatch Signatures);

    /// <summary>
    /// The images a batch's fetches met, by digest: tags often share one (<c>5</c>, <c>5.6</c> and <c>latest</c>; every
    /// tag of a scheduled group), and each is read from the database or fetched from the registry once per batch, even
    /// before the first tag that brought it is saved.
    /// </summary>
    private sealed class BatchImages
    {
        private readonly ConcurrentDictionary<string, Task<KnownImage>> _images = new(StringComparer.Ordinal);

        /// <summary>The stored image of <paramref name="digest"/>, else what <paramref name="fetch"/> brings (to be stored).</summary>
        public Task<KnownImage> GetAsync(Digest digest, DashboardDbContext db, Func<Task<Image>> fetch, CancellationToken ct) =>
            _images.GetOrAdd(digest.ToString(), async key =>
                await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Digest == key, ct) is { } stored
                    ? new KnownImage(stored, Stored: true)
                    : new KnownImage(await fetch(), Stored: false));
    }

    /// <summary>An image a fetch met, and whether the database has it already.</summary>
    private sealed record KnownImage(Image Image, bool Stored)
    {
        public IReadOnlyList<Image> ToStore => Stored ? [] : [Image];
    }

    /// <summary>
    /// What a fetch found: the images it brought that the database does not have yet (a list's platform images first),
    /// where the tag's image came from and its digest, and what the looks for signatures found (none when none was due).
    /// </summary>
    private sealed record Fetched(IReadOnlyList<Image> ToStore, ImageReference Source, Digest Digest, string Note)
    {
        public IReadOnlyList<SignatureLookup> Signatures { get; init; } = [];
    }

    /// <summary>
    /// The facts an import rule judges a fetched image by: what is stored of its reference, with the signatures the fetch
    /// just verified for the fetched digest (or, when no look was due, those stored for that digest).
    /// </summary>
    private sealed class FetchedFacts(IImageFacts stored, Digest digest, IReadOnlyList<SignatureLookup> lookups) : IImageFacts
    {
        public async ValueTask<ImageFact> LookupAsync(ImageReference reference, string? @namespace, CancellationToken ct)
        {
            var fact = await stored.LookupAsync(reference, @namespace, ct);
            if (lookups.FirstOrDefault(l => l.Image == digest && l.Failure is null) is { } fresh)
            {
                return fact with { SignedBy = fresh.VerifiedKeys };
            }

            var byDigest = await stored.LookupAsync(reference.WithDigest(digest), @namespace, ct);
            return fact with { SignedBy = byDigest.SignedBy };
        }

        public void Forget() => stored.Forget();
    }

    /// <summary>
    /// The image policy's rules for <c>imports</c>: a refused source is an import failure with reason Forbidden that names
    /// the rule, and nothing is fetched from it.
    /// </summary>
    private async Task RequireAllowedAsync(string @namespace, string from, IImageFacts known, CancellationToken ct)
    {
        var decision = await (await policy.CurrentAsync(ct)).EvaluateAsync(
            new PolicyRequest(@namespace, PolicyResources.Imports, [new CheckedImage(from)]), known, ct, explain: false);
        if (!decision.Allowed)
        {
            throw new RegistryException(RegistryFailure.Forbidden, $"The image policy refuses this import: {decision.Message}");
        }
    }

    /// <summary>
    /// Saves; when another import stored the same image (by digest) in the meantime — tags <c>5</c>, <c>5.6</c> and
    /// <c>latest</c> often share one — the stored copy is kept and the save retried without ours.
    /// </summary>
    private static async Task SaveSharingImagesAsync(DashboardDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveCheckedAsync(ct);
        }
        catch (DbUpdateException)
        {
            var added = db.ChangeTracker.Entries<Image>().Where(e => e.State == EntityState.Added).ToList();
            var digests = added.Select(e => e.Entity.Digest).ToList();
            var stored = await db.Images.AsNoTracking().Where(i => digests.Contains(i.Digest)).Select(i => i.Digest).ToListAsync(ct);
            // Signatures of an image another import looked at meanwhile: theirs are as fresh as ours.
            var addedChecks = db.ChangeTracker.Entries<ImageSignatures>().Where(e => e.State == EntityState.Added).ToList();
            var checkedDigests = addedChecks.Select(e => e.Entity.Digest).ToList();
            var checkedMeanwhile = (await db.ImageSignatures.AsNoTracking().Where(s => checkedDigests.Contains(s.Digest))
                .Select(s => new { s.Digest, s.Repository }).ToListAsync(ct)).Select(s => (s.Digest, s.Repository)).ToList();
            if (stored.Count == 0 && checkedMeanwhile.Count == 0)
            {
                throw new ConflictException("", "The tag changed while it was imported; import it again.");
            }

            foreach (var entry in added.Where(e => stored.Contains(e.Entity.Digest)))
            {
                entry.State = EntityState.Detached;
            }

            foreach (var entry in addedChecks.Where(e => checkedMeanwhile.Contains((e.Entity.Digest, e.Entity.Repository))))
            {
                entry.State = EntityState.Detached;
            }

            await db.SaveCheckedAsync(ct);
        }
    }

    /// <summary>
    /// A tag that follows another stream's tag takes that tag's current image, without a registry call. Another
    /// namespace's tag is read as the person who set the spec, at every import (manual or scheduled): once they may no
    /// longer read it, the import fails Forbidden and the tag keeps its image.
    /// </summary>
    private async Task<Fetched> FollowStreamTagAsync(DashboardDbContext db, Caller caller, string currentNamespace,
        TagReference spec, CancellationToken ct)
    {
        var sourceNamespace = spec.FromNamespace ?? currentNamespace;
        var colon = spec.FromName.IndexOf(':');
        var (sourceStream, sourceTag) = (spec.FromName[..colon], spec.FromName[(colon + 1)..]);
        if (spec.FollowsAnotherNamespace(currentNamespace)
            && (await db.CallerOfAsync(spec.SetBy, ct) is not { } setter || !await db.CanReadAsync(setter, sourceNamespace, ct)))
        {
            throw new RegistryException(RegistryFailure.Forbidden,
                $"Whoever set this tag may no longer read namespace '{sourceNamespace}' (or it is gone): set the tag again as someone who can read it.");
        }

        Namespaces.Namespace ns;
        try
        {
            ns = await db.RequireNamespaceAsync(caller, sourceNamespace, write: false, ct);
        }
        catch (NotFoundException)
        {
            throw new RegistryException(RegistryFailure.NotFound, $"Namespace '{sourceNamespace}' does not exist or you may not read it.");
        }

        var stream = await db.ImageStreams.AsNoTracking().Include(s => s.History.Where(e => e.Tag == sourceTag))
            .Include(s => s.SpecTags.Where(t => t.Name == sourceTag))
            .FirstOrDefaultAsync(s => s.NamespaceId == ns.Id && s.Name == sourceStream, ct);
        var current = stream?.CurrentImage(sourceTag)
            ?? throw new RegistryException(RegistryFailure.NotFound, $"{sourceNamespace}/{spec.FromName} has no image yet; import it first.");
        var pinned = ImageReference.Parse(current.DockerImageReference);
        // A follow brings the followed tag's upstream image into this namespace, so this namespace's import rules judge it
        // as if it were imported from there (by the followed tag's own source when it has one, else by digest).
        await RequireAllowedAsync(currentNamespace,
            stream!.FindTag(sourceTag) is { FromKind: TagSourceKind.DockerImage } followed ? followed.FromName : pinned.ToString(), facts, ct);
        return new Fetched([], pinned, Digest.Parse(current.Image), $"Follows {sourceNamespace}/{spec.FromName}");
    }

    private async Task<Fetched> FetchAsync(DashboardDbContext db, int namespaceId, TagReference spec, TagEvent? current,
        Shared shared, CancellationToken ct)
    {
        var reference = ImageReference.Parse(spec.FromName);
        var wanted = reference.Digest?.ToString() ?? reference.Tag!;
        var answer = await secrets.WithCredentialsAsync(namespaceId, reference, spec.Insecure,
            target => FetchWithAsync(db, target, reference, wanted, spec, current, shared, ct), ct, recordUse: true, shared.Credentials);
        // The image keeps the source's name (that is what mirrors are for); the status says who served it.
        return answer.Mirrors.Count == 0
            ? answer.Value
            : answer.Value with { Note = $"{answer.Value.Note}, answered by mirror {string.Join(", ", answer.Mirrors)}" };
    }

    private async Task<Fetched> FetchWithAsync(DashboardDbContext db, RegistryTarget target, ImageReference reference,
        string wanted, TagReference spec, TagEvent? current, Shared shared, CancellationToken ct)
    {
        var heads = shared.Heads;
        // The signatures of the images a fetch brings (decision 0017): always when they changed, else when a look is due.
        async Task<Fetched> LookedAtAsync(Fetched fetched, bool changed, IReadOnlyList<Digest> images) =>
            fetched with { Signatures = await shared.Signatures.LookAsync(db, target, reference, images, changed, ct) };

        // One HEAD decides whether anything changed; Docker Hub does not count HEADs against its pull limit. Scheduled
        // checks of tags that follow the same upstream tag share it.
        if (current is not null && reference.Digest is null && await HeadAsync(target, reference, wanted, heads, ct) is { } head
            && head.ToString() == current.Image)
        {
            return await LookedAtAsync(new Fetched([], reference, head, $"Unchanged at {head.Short}"), changed: false, [head]);
        }

        var manifestKey = UpstreamHeads.Key(target, reference.Repository, wanted);
        var manifest = heads?.GetManifest(manifestKey, target) ?? await registry.GetManifestAsync(target, reference.Repository, wanted, ct);
        heads?.SetManifest(manifestKey, manifest, target);
        var document = ManifestDocument.Parse(manifest.Content, manifest.MediaType);
        if (!document.IsIndex)
        {
            var image = await shared.Images.GetAsync(manifest.Digest, db, () => SingleImageAsync(target, reference, manifest.Digest, document, ct), ct);
            return await LookedAtAsync(new Fetched(image.ToStore, reference, manifest.Digest, $"Imported {manifest.Digest.Short}"), changed: true,
                [manifest.Digest]);
        }

        var children = document.Manifests.Where(m => m.Platform is not null && !MediaTypes.IsIndex(m.MediaType)).ToList();
        if (children.Count == 0)
        {
            throw new RegistryException(RegistryFailure.InvalidManifest, $"The index of {reference} lists no platform manifests.");
        }

        if (spec.ImportMode == ImportMode.Legacy)
        {
            var chosen = PreferredPlatform(children, spec.Annotations);
            if (chosen.Digest.ToString() == current?.Image)
            {
                // A Legacy tag holds one platform of the list; the list's HEAD digest never equals it, the chosen child does.
                return await LookedAtAsync(new Fetched([], reference, chosen.Digest, $"Unchanged at {chosen.Digest.Short} ({chosen.Platform})"),
                    changed: false, [chosen.Digest]);
            }

            var image = await shared.Images.GetAsync(chosen.Digest, db, async () =>
            {
                var child = await registry.GetManifestAsync(target, reference.Repository, chosen.Digest.ToString(), ct);
                return await SingleImageAsync(target, reference, child.Digest, ManifestDocument.Parse(child.Content, child.MediaType), ct);
            }, ct);

            return await LookedAtAsync(new Fetched(image.ToStore, reference, chosen.Digest,
                $"Imported {chosen.Platform} ({chosen.Digest.Short}) of a {children.Count}-platform list"), changed: true, [chosen.Digest]);
        }

        var sizes = new List<long>();
        var toStore = new List<Image>();
        foreach (var child in children)
        {
            var known = await shared.Images.GetAsync(child.Digest, db, async () =>
            {
                var childManifest = await registry.GetManifestAsync(target, reference.Repository, child.Digest.ToString(), ct);
                return await SingleImageAsync(target, reference, childManifest.Digest, ManifestDocument.Parse(childManifest.Content, childManifest.MediaType), ct);
            }, ct);
            toStore.AddRange(known.ToStore);
            sizes.Add(known.Image.Size);
        }

        var list = await shared.Images.GetAsync(manifest.Digest, db, () => Task.FromResult(new Image(manifest.Digest, reference, document.MediaType,
            sizes.Sum(), [], new ImageConfig(), children.Select(c => new ChildManifest(c.Digest.ToString(), c.MediaType, c.Size ?? 0, c.Platform!)))), ct);
        // The list's own signature (cosign sign of the list) and each platform image's (cosign sign --recursive).
        return await LookedAtAsync(new Fetched([.. toStore, .. list.ToStore], reference, manifest.Digest,
            $"Imported a {children.Count}-platform list {manifest.Digest.Short}"), changed: true, [manifest.Digest, .. children.Select(c => c.Digest)]);
    }

    private async Task<Digest?> HeadAsync(RegistryTarget target, ImageReference reference, string wanted, UpstreamHeads? heads, CancellationToken ct)
    {
        var key = UpstreamHeads.Key(target, reference.Repository, wanted);
        if (heads?.Get(key, target) is { } known)
        {
            return known;
        }

        var head = await registry.HeadManifestAsync(target, reference.Repository, wanted, ct);
        if (head is not null)
        {
            heads?.Set(key, head, target);
        }

        return head;
    }

    public const string PreferArchAnnotation = "importer.image.openshift.io/prefer-arch";
    public const string PreferOsAnnotation = "importer.image.openshift.io/prefer-os";

    /// <summary>The platform a Legacy import keeps: the tag's prefer-arch/prefer-os annotations, else linux/amd64, else the first.</summary>
    private static Descriptor PreferredPlatform(IReadOnlyList<Descriptor> children, IReadOnlyDictionary<string, string> annotations)
    {
        var arch = annotations.GetValueOrDefault(PreferArchAnnotation);
        var os = annotations.GetValueOrDefault(PreferOsAnnotation);
        return (arch is not null || os is not null
                   ? children.FirstOrDefault(c => (arch is null || c.Platform!.Architecture == arch) && (os is null || c.Platform!.Os == os))
                   : null)
            ?? children.FirstOrDefault(c => c.Platform is { Os: "linux", Architecture: "amd64" })
            ?? children[0];
    }

    /// <summary>
    /// Whether the tag's last successful import was of its current spec. A spec changed since (source, import mode)
    /// needs a real import, whatever digest the registry reports, so the HEAD short-cut is not taken.
    /// </summary>
    private static bool UpToDate(ImageStream stream, TagReference spec) =>
        stream.Conditions.FirstOrDefault(c => c.Tag == spec.Name && c.Type == TagCondition.ImportSuccess && c.Status == "True")?.Generation
            >= spec.Generation;

    private async Task<Image> SingleImageAsync(RegistryTarget target, ImageReference reference, Digest digest, ManifestDocument document, CancellationToken ct)
    {
        var config = document.Config ?? throw new RegistryException(RegistryFailure.InvalidManifest, $"The manifest of {reference} has no config.");
        var configBlob = await registry.GetBlobAsync(target, reference.Repository, config.Digest, RegistryClient.MaxConfigBytes, ct);
        var layers = new List<ImageLayer>();
        foreach (var layer in document.Layers)
        {
            var size = layer.Size ?? await registry.HeadBlobSizeAsync(target, reference.Repository, layer.Digest, ct) ?? 0;
            layers.Add(new ImageLayer(layer.Digest.ToString(), size, layer.MediaType));
        }

        return new Image(digest, reference, document.MediaType, layers.Sum(l => l.Size) + (config.Size ?? configBlob.Length), layers,
            ImageConfigDocument.Parse(configBlob), []);
    }
}
