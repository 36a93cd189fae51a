using System.Collections.Concurrent;
using System.Diagnostics;
using Dashboard.Domain.Access;
using Dashboard.Domain.Diagnostics;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Policy;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Dashboard.Domain.Import;

/// <summary>The result of importing one tag, as the API and the console show it.</summary>
public sealed record ImportOutcome(string Tag, string? Image, bool Changed, bool Succeeded, string Reason, string Message);

/// <summary>
/// Imports a spec tag's image metadata from its registry with the namespace's pull secrets (OpenShift's
/// <c>oc import-image</c>): manifest, config, layers, platforms. A tag that already holds an image is checked with one
/// <c>HEAD</c> first and nothing more is fetched when the digest did not change. A failure sets ImportSuccess=False with
/// its reason and keeps the tag's image: nothing is lost. The importer only fetches and records into the stream; what
/// follows from what the stream raised (change event, audit, schedule, caches) is done by <see cref="ITagImportHandler"/>s
/// in the same save (decision 0015).
/// </summary>
public sealed class ImageImporter(
    IDbContextFactory<DashboardDbContext> contexts, RegistryClient registry, PullSecretService secrets, PolicyStore policy, IImageFacts facts,
    IEnumerable<ITagImportHandler> handlers, TimeProvider clock, ILogger<ImageImporter> logger)
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
        using var span = DashboardTelemetry.Source.StartActivity("import");
        span?.SetTag("dashboard.namespace", @namespace).SetTag("dashboard.stream", streamName).SetTag("dashboard.tag", tag)
            .SetTag("dashboard.scheduled", heads is not null);
        var gate = _running.GetOrAdd($"{@namespace}/{streamName}:{tag}", _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            var outcome = await ImportTagOnceAsync(caller, @namespace, streamName, tag, heads, ct);
            span?.SetTag("dashboard.import.result", outcome.Reason).SetTag("dashboard.image", outcome.Image);
            if (!outcome.Succeeded)
            {
                span?.SetStatus(ActivityStatusCode.Error, outcome.Reason);
            }

            return outcome;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// The image policy's rules for <c>imports</c>: a refused source is an import failure with reason Forbidden that names
    /// the rule, and nothing is fetched from it.
    /// </summary>
    private async Task RequireAllowedAsync(string @namespace, string from, CancellationToken ct)
    {
        var decision = await (await policy.CurrentAsync(ct)).EvaluateAsync(
            new PolicyRequest(@namespace, PolicyResources.Imports, [new CheckedImage(from)]), facts, ct, explain: false);
        if (!decision.Allowed)
        {
            throw new RegistryException(RegistryFailure.Forbidden, $"The image policy refuses this import: {decision.Message}");
        }
    }

    private async Task<ImportOutcome> ImportTagOnceAsync(Caller caller, string @namespace, string streamName, string tag, UpstreamHeads? heads, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        // Only this tag's spec, history and conditions: an import touches nothing else of the stream, and loading the
        // whole stream made each of a 200-tag repository import's imports cost more the more tags the stream had.
        var stream = await db.ImageStreams.Include(s => s.Namespace)
            .Include(s => s.SpecTags.Where(t => t.Name == tag))
            .Include(s => s.History.Where(e => e.Tag == tag))
            .Include(s => s.Conditions.Where(c => c.Tag == tag))
            .AsSplitQuery().FirstOrDefaultAsync(s => s.NamespaceId == ns.Id && s.Name == streamName, ct)
            ?? throw new NotFoundException($"Image stream '{ns.Name}/{streamName}' does not exist.");
        var spec = stream.FindTag(tag) ?? throw new NotFoundException($"Image stream '{ns.Name}/{streamName}' has no tag '{tag}'.");
        var now = clock.GetUtcNow().UtcDateTime;
        ImportOutcome outcome;
        try
        {
            if (spec.FromKind == TagSourceKind.DockerImage)
            {
                await RequireAllowedAsync(ns.Name, spec.FromName, ct);
            }

            var (image, source, digest, note) = spec.FromKind == TagSourceKind.ImageStreamTag
                ? await FollowStreamTagAsync(db, caller, ns.Name, spec, ct)
                : await FetchAsync(db, ns.Id, spec, UpToDate(stream, spec) ? stream.CurrentImage(tag) : null, heads, ct);
            if (image is not null && !await db.Images.AnyAsync(i => i.Digest == image.Digest, ct))
            {
                db.Images.Add(image);
            }

            var entry = stream.RecordImport(tag, source, digest, note, now);
            outcome = new ImportOutcome(tag, digest.ToString(), entry is not null, true, entry is null ? "Unchanged" : "Imported", note);
        }
        catch (RegistryException e)
        {
            logger.LogInformation("Import of {Namespace}/{Stream}:{Tag} failed: {Reason} {Message}", ns.Name, stream.Name, tag, e.Reason, e.Message);
            stream.RecordImportFailure(tag, e.Reason.ToString(), e.Message, now);
            outcome = new ImportOutcome(tag, stream.CurrentImage(tag)?.Image, false, false, e.Reason.ToString(), e.Message);
        }
        catch (Exception e) when (e is not (OperationCanceledException or DashboardException))
        {
            // Whatever else a registry's answer breaks is still an import failure with a condition, never a lost tag or a 500.
            logger.LogWarning(e, "Import of {Namespace}/{Stream}:{Tag} failed unexpectedly", ns.Name, stream.Name, tag);
            var message = $"The registry's answer could not be used ({e.GetType().Name}: {e.Message}).";
            stream.RecordImportFailure(tag, nameof(RegistryFailure.InvalidManifest), message, now);
            outcome = new ImportOutcome(tag, stream.CurrentImage(tag)?.Image, false, false, nameof(RegistryFailure.InvalidManifest), message);
        }

        // The stream recorded what happened; the handlers do the rest (change event, audit, schedule, caches) in this save.
        var work = new TagImportContext(db, caller, ns, spec, scheduled: heads is not null, now);
        foreach (var raised in stream.TakeRaised())
        {
            foreach (var handler in handlers)
            {
                await handler.HandleAsync(work, raised, ct);
            }
        }

        await SaveSharingImagesAsync(db, ct);
        await work.CommittedAsync(logger);
        return outcome;
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
            if (stored.Count == 0)
            {
                throw new ConflictException("", "The tag changed while it was imported; import it again.");
            }

            foreach (var entry in added.Where(e => stored.Contains(e.Entity.Digest)))
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
    private async Task<(Image?, ImageReference, Digest, string)> FollowStreamTagAsync(DashboardDbContext db, Caller caller, string currentNamespace,
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
            stream!.FindTag(sourceTag) is { FromKind: TagSourceKind.DockerImage } followed ? followed.FromName : pinned.ToString(), ct);
        return (null, pinned, Digest.Parse(current.Image), $"Follows {sourceNamespace}/{spec.FromName}");
    }

    private async Task<(Image?, ImageReference, Digest, string)> FetchAsync(DashboardDbContext db, int namespaceId, TagReference spec, TagEvent? current,
        UpstreamHeads? heads, CancellationToken ct)
    {
        var reference = ImageReference.Parse(spec.FromName);
        var wanted = reference.Digest?.ToString() ?? reference.Tag!;
        var answer = await secrets.WithCredentialsAsync(namespaceId, reference,
            credential => FetchWithAsync(db, new RegistryTarget(reference.Registry, spec.Insecure, credential), reference, wanted, spec, current, heads, ct),
            ct, recordUse: true);
        return answer.Value;
    }

    private async Task<(Image?, ImageReference, Digest, string)> FetchWithAsync(DashboardDbContext db, RegistryTarget target, ImageReference reference,
        string wanted, TagReference spec, TagEvent? current, UpstreamHeads? heads, CancellationToken ct)
    {
        // One HEAD decides whether anything changed; Docker Hub does not count HEADs against its pull limit. Scheduled
        // checks of tags that follow the same upstream tag share it.
        if (current is not null && reference.Digest is null && await HeadAsync(target, reference, wanted, heads, ct) is { } head
            && head.ToString() == current.Image)
        {
            return (null, reference, head, $"Unchanged at {head.Short}");
        }

        var manifestKey = UpstreamHeads.Key(target, reference.Repository, wanted);
        var manifest = heads?.GetManifest(manifestKey) ?? await registry.GetManifestAsync(target, reference.Repository, wanted, ct);
        heads?.SetManifest(manifestKey, manifest);
        var document = ManifestDocument.Parse(manifest.Content, manifest.MediaType);
        if (!document.IsIndex)
        {
            var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Digest == manifest.Digest.ToString(), ct)
                ?? await SingleImageAsync(target, reference, manifest.Digest, document, ct);
            return (image, reference, manifest.Digest, $"Imported {manifest.Digest.Short}");
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
                return (null, reference, chosen.Digest, $"Unchanged at {chosen.Digest.Short} ({chosen.Platform})");
            }

            // An image known by digest is not fetched again.
            var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Digest == chosen.Digest.ToString(), ct);
            if (image is null)
            {
                var child = await registry.GetManifestAsync(target, reference.Repository, chosen.Digest.ToString(), ct);
                image = await SingleImageAsync(target, reference, child.Digest, ManifestDocument.Parse(child.Content, child.MediaType), ct);
            }

            return (image, reference, chosen.Digest, $"Imported {chosen.Platform} ({chosen.Digest.Short}) of a {children.Count}-platform list");
        }

        var sizes = new List<long>();
        foreach (var child in children)
        {
            var known = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Digest == child.Digest.ToString(), ct);
            if (known is null)
            {
                var childManifest = await registry.GetManifestAsync(target, reference.Repository, child.Digest.ToString(), ct);
                known = await SingleImageAsync(target, reference, childManifest.Digest, ManifestDocument.Parse(childManifest.Content, childManifest.MediaType), ct);
                if (!db.Images.Local.Any(i => i.Digest == known.Digest))
                {
                    db.Images.Add(known);
                }
            }

            sizes.Add(known.Size);
        }

        var list = new Image(manifest.Digest, reference, document.MediaType, sizes.Sum(), [], new ImageConfig(),
            children.Select(c => new ChildManifest(c.Digest.ToString(), c.MediaType, c.Size ?? 0, c.Platform!)));
        return (list, reference, manifest.Digest, $"Imported a {children.Count}-platform list {manifest.Digest.Short}");
    }

    private async Task<Digest?> HeadAsync(RegistryTarget target, ImageReference reference, string wanted, UpstreamHeads? heads, CancellationToken ct)
    {
        var key = UpstreamHeads.Key(target, reference.Repository, wanted);
        if (heads?.Get(key) is { } known)
        {
            return known;
        }

        var head = await registry.HeadManifestAsync(target, reference.Repository, wanted, ct);
        if (head is not null)
        {
            heads?.Set(key, head);
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
