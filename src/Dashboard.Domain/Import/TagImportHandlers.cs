using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Policy;
using Dashboard.Domain.Scheduling;
using Dashboard.Domain.Triggers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Import;

/// <summary>
/// One unit of work of imports (one tag, or a batch), as its handlers see it: what they add to <see cref="Db"/> is saved
/// with the imports or not at all; what leaves the process or the transaction (a delivery queued, a cache forgotten, a
/// page told) waits for <see cref="OnCommitted"/>.
/// </summary>
public sealed class TagImportContext(DashboardDbContext db, Caller caller, bool scheduled, IReadOnlyList<TagKey> tags)
{
    private readonly List<Func<Task>> _committed = [];
    private readonly Dictionary<string, object> _shared = new(StringComparer.Ordinal);
    private readonly HashSet<string> _images = new(StringComparer.Ordinal);

    public DashboardDbContext Db { get; } = db;

    public Caller Caller { get; } = caller;

    /// <summary>The tags this unit of work imports.</summary>
    public IReadOnlyList<TagKey> Tags { get; } = tags;

    /// <summary>Scheduled checks (which plan their own next check), not imports someone asked for.</summary>
    public bool Scheduled { get; } = scheduled;

    /// <summary>Runs <paramref name="work"/> once the imports are saved; never when the save fails.</summary>
    public void OnCommitted(Func<Task> work) => _committed.Add(work);

    /// <summary>What <paramref name="load"/> reads, once per unit of work and <paramref name="key"/>: a handler reads what a batch's tags share once.</summary>
    public async Task<T> OnceAsync<T>(string key, Func<Task<T>> load) where T : class
    {
        if (!_shared.TryGetValue(key, out var value))
        {
            _shared[key] = value = await load();
        }

        return (T)value;
    }

    /// <summary>True the first time the importer records an image of <paramref name="digest"/> in this unit of work.</summary>
    internal bool FirstImage(string digest) => _images.Add(digest);

    internal async Task CommittedAsync(ILogger logger)
    {
        var work = _committed.ToList();
        _committed.Clear();
        foreach (var follow in work)
        {
            try
            {
                await follow();
            }
            catch (Exception e)
            {
                // The imports are saved; only a follow-up failed, and the others still run.
                logger.LogError(e, "A follow-up of an import failed");
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
        var ns = changed.Stream.Namespace;
        if (await PendingAsync(context.Db, ns.Id, changed.Stream.Name, changed.Tag, changed.At - window, window, ct) is { } pending)
        {
            pending.Absorb(entry.Image, entry.DockerImageReference, entry.Generation);
            return;
        }

        var change = new ChangeEvent(changed.At, ns.Id, ns.Name, changed.Stream.Name, changed.Tag, entry.Image,
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
            AuditTrail.Record(context.Db, clock, context.Caller, "imported", "Tag", changed.Stream.Namespace.Name, $"{changed.Stream.Name}:{changed.Tag}",
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
        // One read for the tags of the stream that the unit of work imports (a dictionary: DbSet.Local would detect the
        // changes of every tracked entity at each look, which made a 200-tag batch quadratic).
        var schedules = await context.OnceAsync($"schedules of {stream.Id}", async () =>
        {
            var tags = context.Tags.Where(k => k.Namespace == stream.Namespace.Name && k.Stream == stream.Name).Select(k => k.Tag).ToList();
            return await context.Db.TagSchedules.Where(s => s.ImageStreamId == stream.Id && tags.Contains(s.Tag)).ToDictionaryAsync(s => s.Tag, ct);
        });
        if (!schedules.TryGetValue(raised.Tag, out var scheduled))
        {
            return;
        }

        var (succeeded, changed, reason, message) = raised switch
        {
            TagImported imported => (true, imported.Changed, imported.Changed ? "Imported" : "Unchanged", imported.Note),
            TagImportFailed failed => (false, false, failed.Reason, failed.Message),
            _ => throw new InvalidOperationException($"A manual import raised {raised.GetType().Name}, which plans no check."),
        };
        scheduled.Record(raised.At, clock.GetUtcNow().UtcDateTime - raised.At, succeeded, changed, reason, message,
            SchedulePlanner.NextCheck(raised.At, SchedulePlanner.Interval(stream.FindTag(raised.Tag)?.IntervalSeconds, schedule.Current),
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
