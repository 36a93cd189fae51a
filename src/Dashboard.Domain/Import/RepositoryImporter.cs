using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Import;

/// <summary>What importing a whole repository asks for.</summary>
public sealed record RepositoryImportRequest(string? From, int? MaxTags = null, bool Insecure = false, bool Scheduled = false,
    ImportMode ImportMode = ImportMode.PreserveOriginal);

/// <summary>
/// The tags a repository import would take, in priority order, and the ones it leaves out; <see cref="ListCut"/> when
/// the registry listed more than <c>Dashboard:Import:MaxListedTags</c> names (the rest were not read or ordered).
/// </summary>
public sealed record RepositoryPlan(ImageReference Repository, IReadOnlyList<string> Selected, IReadOnlyList<string> AdditionalTags, bool ListCut = false);

public sealed record RepositoryImportResult(IReadOnlyList<ImportOutcome> Imported, IReadOnlyList<string> AdditionalTags, bool ListCut = false);

/// <summary>Where a running repository import is: tags finished (and how many of them failed) of the total, and the ones in flight.</summary>
public sealed record RepositoryImportProgress(int Total, int Done, int Failed, IReadOnlyList<string> InFlight);

/// <summary>
/// <c>oc import-image --all</c>: lists a repository's tags, orders them by <see cref="TagPriority"/>, points a spec tag
/// of the stream at each of the first N and imports them, a bounded number at a time per registry.
/// </summary>
public sealed class RepositoryImporter(
    IDbContextFactory<DashboardDbContext> contexts, RegistryClient registry, PullSecretService secrets, ImageImporter importer,
    IOptionsMonitor<ImportOptions> importOptions, RegistryThrottle throttle, Policy.PolicyStore policy, TimeProvider clock)
{
    /// <summary>The number of tags a repository import takes when the request does not say.</summary>
    public int DefaultMaxTags => importOptions.CurrentValue.MaxTagsPerRepository;

    /// <summary>Lists and orders the repository's tags without changing anything (the console's preview).</summary>
    public async Task<RepositoryPlan> PlanAsync(Caller caller, string @namespace, RepositoryImportRequest request, CancellationToken ct = default)
    {
        int namespaceId;
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            namespaceId = (await db.RequireNamespaceAsync(caller, @namespace, write: true, ct)).Id;
        }

        if (!ImageReference.TryParse(request.From?.Trim(), out var reference, out var error))
        {
            throw new ValidationFailedException("from", error);
        }

        if (reference.Digest is not null)
        {
            throw new ValidationFailedException("from", "Name a repository (registry/repository), not an image by digest.");
        }

        var limit = request.MaxTags switch
        {
            null => importOptions.CurrentValue.MaxTagsPerRepository,
            -1 => importOptions.CurrentValue.MaxTagsCap,
            < 1 => throw new ValidationFailedException("maxTags", "maxTags is a positive number, or -1 for all tags."),
            var n => Math.Min(n.Value, importOptions.CurrentValue.MaxTagsCap),
        };

        // The image policy first: a repository none of whose tags may be imported is not even listed.
        if ((await policy.CurrentAsync(ct)).RefusesWholeRepository(@namespace, reference) is { } refusal)
        {
            throw new RegistryException(RegistryFailure.Forbidden, $"The image policy refuses this import: {refusal}.");
        }

        var listing = await ListWithSecretsAsync(namespaceId, reference, request.Insecure, ct);
        // cosign's signature, attestation and SBOM tags (sha256-<hex>.sig …) are artifacts of images, not images.
        var ordered = TagPriority.Order(listing.Tags.Where(t => TagName.Validate(t) is null && !Signatures.SignatureFinder.IsArtifactTag(t)));
        return new RepositoryPlan(reference, [.. ordered.Take(limit)], [.. ordered.Skip(limit)], listing.Cut);
    }

    /// <param name="progress">Told when a tag starts and when it ends (from the importing threads, one call at a time).</param>
    public async Task<RepositoryImportResult> ImportAsync(Caller caller, string @namespace, string stream, RepositoryImportRequest request, CancellationToken ct = default,
        Func<RepositoryImportProgress, Task>? progress = null)
    {
        var plan = await PlanAsync(caller, @namespace, request, ct);
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
            var target = await ImageStreamService.LoadOrCreateForTaggingAsync(db, caller, ns, stream, clock, ct);
            foreach (var tag in plan.Selected)
            {
                var from = $"{plan.Repository.Registry}/{plan.Repository.Repository}:{tag}";
                // A tag already pointing there the same way keeps its generation: re-importing a repository must stay a
                // HEAD per unchanged tag, not look like a changed spec (which forces a full import, as `oc tag` does).
                if (target.FindTag(tag) is { FromKind: TagSourceKind.DockerImage } existing && existing.FromName == from
                    && existing.Scheduled == request.Scheduled && existing.Insecure == request.Insecure && existing.ImportMode == request.ImportMode)
                {
                    continue;
                }

                target.SetTag(tag, new TagSource(TagSourceKind.DockerImage, from), request.Scheduled, request.Insecure, request.ImportMode, ReferencePolicy.Source, setBy: caller.UserId);
            }

            AuditTrail.Record(db, clock, caller, "changed", "Tag", ns.Name, stream,
                $"repository import of {plan.Repository.Registry}/{plan.Repository.Repository}: {plan.Selected.Count} tag(s), {plan.AdditionalTags.Count} left out");
            await db.SaveUniqueAsync("name", "Someone else created this stream or its tags at the same time; reload and try again.", ct);
        }

        // One batch: one access check, one read of the tags' rows, the pull secrets read once, saves of many tags at a time.
        // The registry client holds every request to the registry's bounds; the concurrency only keeps enough tags going.
        var tracker = new ProgressTracker(plan.Selected.Count, progress);
        var keys = plan.Selected.Select(tag => new TagKey(@namespace, stream, tag)).ToList();
        var imported = await importer.ImportTagsAsync(caller, keys, new ImportBatch
        {
            Concurrency = Math.Min(16, throttle.BoundsFor(plan.Repository.Registry).Concurrency),
            Progress = (key, outcome) => outcome is null ? tracker.StartedAsync(key.Tag) : tracker.FinishedAsync(key.Tag, outcome.Succeeded),
        }, ct);
        var outcomes = keys.Select(key => imported.TryGetValue(key, out var outcome) ? outcome
            : new ImportOutcome(key.Tag, null, false, false, nameof(RegistryFailure.NotFound), "The tag was removed while the repository was imported.")).ToList();
        return new RepositoryImportResult(outcomes, plan.AdditionalTags, plan.ListCut);
    }

    private async Task<TagListing> ListWithSecretsAsync(int namespaceId, ImageReference reference, bool insecure, CancellationToken ct)
    {
        // Tag lists are the source's: mirrors serve images by tag or digest (OpenShift's mirror sets do not list either).
        var answer = await secrets.WithCredentialsAsync(namespaceId, reference, insecure,
            target => registry.ListTagsAsync(target, reference.Repository, ct, importOptions.CurrentValue.MaxListedTags), ct);
        return answer.Value;
    }

    /// <summary>Counts the tags of one import as they start and end, and tells <c>progress</c> one change at a time.</summary>
    private sealed class ProgressTracker(int total, Func<RepositoryImportProgress, Task>? progress)
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly List<string> _inFlight = [];
        private int _done;
        private int _failed;

        public Task StartedAsync(string tag) => ChangeAsync(() => _inFlight.Add(tag));

        public Task FinishedAsync(string tag, bool succeeded) => ChangeAsync(() =>
        {
            _inFlight.Remove(tag);
            _done++;
            _failed += succeeded ? 0 : 1;
        });

        private async Task ChangeAsync(Action change)
        {
            if (progress is null)
            {
                return;
            }

            await _gate.WaitAsync();
            try
            {
                change();
                await progress(new RepositoryImportProgress(total, _done, _failed, [.. _inFlight]));
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
