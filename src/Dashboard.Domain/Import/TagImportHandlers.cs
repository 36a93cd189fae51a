using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Policy;
using Dashboard.Domain.Scheduling;
using Dashboard.Domain.Triggers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Import;

/// <summary>
/// One tag import's unit of work, as its handlers see it: what they add to <see cref="Db"/> is saved with the import or
/// not at all; what leaves the process or the transaction (a delivery queued, a cache forgotten, a page told) waits for
/// <see cref="OnCommitted"/>.
/// </summary>
public sealed class TagImportContext(DashboardDbContext db, Caller caller, Namespace @namespace, TagReference spec, bool scheduled, DateTime startedAt)
{
    private readonly List<Func<Task>> _committed = [];

    public DashboardDbContext Db { get; } = db;

    public Caller Caller { get; } = caller;

    public Namespace Namespace { get; } = @namespace;

    public TagReference Spec { get; } = spec;

    /// <summary>A scheduled check (which plans its own next check), not an import someone asked for.</summary>
    public bool Scheduled { get; } = scheduled;

    public DateTime StartedAt { get; } = startedAt;

    /// <summary>Runs <paramref name="work"/> once the import is saved; never when the save fails.</summary>
    public void OnCommitted(Func<Task> work) => _committed.Add(work);

    internal async Task CommittedAsync(ILogger logger)
    {
        foreach (var work in _committed)
        {
            try
            {
                await work();
            }
            catch (Exception e)
            {
                // The import is saved; only a follow-up failed, and the others still run.
                logger.LogError(e, "A follow-up of the import of {Namespace}/{Tag} failed", Namespace.Name, Spec.Name);
            }
        }
    }
}

/// <summary>Reacts to what an import raised, inside its unit of work (<see cref="TagImportContext"/>). Adding a reaction is one class.</summary>
public interface ITagImportHandler
{
    Task HandleAsync(TagImportContext context, TagImportEvent raised, CancellationToken ct);
}

/// <summary>
/// A changed tag becomes a change event for subscribers, saved with the history entry (an outbox: the event exists exactly
/// when the entry does) and queued for delivery once saved. Changes within the coalescing window that nobody was sent
/// yet are one event: its newest image.
/// </summary>
internal sealed class ChangeEventRecorder(IChangeNotifier notifier, IOptionsMonitor<WebhookOptions> webhookOptions) : ITagImportHandler
{
    public async Task HandleAsync(TagImportContext context, TagImportEvent raised, CancellationToken ct)
    {
        if (raised is not TagChanged changed)
        {
            return;
        }

        var window = TimeSpan.FromSeconds(webhookOptions.CurrentValue.CoalesceSeconds);
        var entry = changed.Entry;
        if (await PendingAsync(context.Db, context.Namespace.Id, changed.Stream.Name, changed.Tag, changed.At - window, window, ct) is { } pending)
        {
            pending.Absorb(entry.Image, entry.DockerImageReference, entry.Generation);
            return;
        }

        var change = new ChangeEvent(changed.At, context.Namespace.Id, context.Namespace.Name, changed.Stream.Name, changed.Tag, entry.Image,
            changed.PreviousImage, entry.DockerImageReference, entry.Generation);
        context.Db.ChangeEvents.Add(change);
        context.OnCommitted(() =>
        {
            notifier.Saved(change.Id, window);
            return Task.CompletedTask;
        });
    }

    /// <summary>This tag's event still inside the coalescing window and not yet sent anywhere, if there is one.</summary>
    private static async Task<ChangeEvent?> PendingAsync(DashboardDbContext db, int namespaceId, string stream, string tag, DateTime since, TimeSpan window,
        CancellationToken ct) =>
        window <= TimeSpan.Zero
            ? null
            : await db.ChangeEvents
                .Where(e => e.NamespaceId == namespaceId && e.Stream == stream && e.Tag == tag && e.OccurredAt >= since)
                .Where(e => !db.WebhookDeliveries.Any(d => d.EventId == e.Id))
                .OrderByDescending(e => e.Id).FirstOrDefaultAsync(ct);
}

/// <summary>A tag that moved is in the audit trail: who imported it, from where, to which digest.</summary>
internal sealed class ImportAudit(TimeProvider clock) : ITagImportHandler
{
    public Task HandleAsync(TagImportContext context, TagImportEvent raised, CancellationToken ct)
    {
        if (raised is TagChanged changed)
        {
            AuditTrail.Record(context.Db, clock, context.Caller, "imported", "Tag", context.Namespace.Name, $"{changed.Stream.Name}:{changed.Tag}",
                $"{changed.Source} → {changed.Entry.Image}");
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// A manual import counts as the tag's check: the schedule shows it, and the next scheduled check is an interval later
/// (a failure backs off as a failed check does). Scheduled checks plan their own.
/// </summary>
internal sealed class ManualImportSchedule(ScheduleSettings schedule, ScheduleActivity activity, TimeProvider clock) : ITagImportHandler
{
    public async Task HandleAsync(TagImportContext context, TagImportEvent raised, CancellationToken ct)
    {
        if (context.Scheduled || raised is TagChanged)
        {
            return;
        }

        var stream = raised.Stream;
        var scheduled = await context.Db.TagSchedules.FirstOrDefaultAsync(s => s.ImageStreamId == stream.Id && s.Tag == raised.Tag, ct);
        if (scheduled is null)
        {
            return;
        }

        var (succeeded, changed, reason, message) = raised switch
        {
            TagImported imported => (true, imported.Changed, imported.Changed ? "Imported" : "Unchanged", imported.Note),
            TagImportFailed failed => (false, false, failed.Reason, failed.Message),
            _ => throw new InvalidOperationException($"A manual import raised {raised.GetType().Name}, which plans no check."),
        };
        scheduled.Record(context.StartedAt, clock.GetUtcNow().UtcDateTime - context.StartedAt, succeeded, changed, reason, message,
            SchedulePlanner.NextCheck(context.StartedAt, SchedulePlanner.Interval(context.Spec.IntervalSeconds, schedule.Current),
                succeeded ? 0 : scheduled.ConsecutiveFailures + 1, Random.Shared.NextDouble()));
        context.OnCommitted(activity.PublishAsync);
    }
}

/// <summary>Policy's image facts (which image a tag resolves to) are forgotten once a tag's new image is saved.</summary>
internal sealed class ImageFactsInvalidation(IImageFacts facts) : ITagImportHandler
{
    public Task HandleAsync(TagImportContext context, TagImportEvent raised, CancellationToken ct)
    {
        if (raised is TagChanged)
        {
            context.OnCommitted(() =>
            {
                facts.Forget();
                return Task.CompletedTask;
            });
        }

        return Task.CompletedTask;
    }
}
