using Dashboard.Domain.Access;
using Dashboard.Domain.Diagnostics;
using Dashboard.Domain.Images;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Import;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Scheduling;

/// <summary>Scheduled tags that share one upstream image reference: checked together, with one <c>HEAD</c>.</summary>
/// <remarks>
/// A background job's argument, serialized by the job system: plain types only (an array, not an interface that a
/// collection expression fills with a compiler-made type no serializer can create again).
/// </remarks>
public sealed record ScheduledCheck(string Upstream, long[] ScheduleIds);

/// <summary>
/// Scheduled re-import (see docs/decisions/0005-one-scheduler-tick.md): one tick finds the tags that are due, within
/// the global rate limit, leases them and groups them by upstream; the host runs each group as a background job.
/// </summary>
public sealed class ImportScheduler(
    IDbContextFactory<DashboardDbContext> contexts, ImageImporter importer, ScheduleSettings settingsInForce, RegistryPauses pauses,
    Registry.Mirrors.MirrorStore mirrors, ScheduleActivity activity, TimeProvider clock, ILogger<ImportScheduler> logger)
{
    /// <summary>One tick: brings schedules in line with the spec tags, then leases and groups the due ones.</summary>
    public async Task<IReadOnlyList<ScheduledCheck>> TickAsync(CancellationToken ct = default)
    {
        await settingsInForce.RefreshAsync(ct);
        var settings = settingsInForce.Current;
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await contexts.CreateDbContextAsync(ct);
        if (await ReconcileAsync(db, settings, now, ct))
        {
            await activity.PublishAsync();
        }
        if (settings.Disabled)
        {
            return [];
        }

        // Read before the due tags are: nothing new between reading them and leasing them.
        var mirrorsInForce = await mirrors.CurrentAsync(ct);
        var (budget, bucket) = await TakeBudgetAsync(db, settings, now, ct);
        if (budget == 0)
        {
            return [];
        }

        // Tags of a paused registry stay due (not leased, not counted against the budget); other registries go on.
        var candidates = await db.TagSchedules.AsNoTracking()
            .Where(s => s.NextCheckAt <= now && (s.LeasedUntil == null || s.LeasedUntil < now))
            .OrderBy(s => s.NextCheckAt)
            .Take(budget == int.MaxValue ? int.MaxValue : budget * 4 + 100)
            .Join(db.SpecTags, s => new { s.ImageStreamId, Name = s.Tag }, t => new { t.ImageStreamId, t.Name },
                (s, t) => new { s.Id, t.FromKind, t.FromName, t.FromNamespace, t.Insecure })
            .ToListAsync(ct);
        var paused = new Dictionary<string, bool>(StringComparer.Ordinal);
        var due = candidates
            .Where(c => c.FromKind != TagSourceKind.DockerImage || !IsPaused(c.FromName))
            .Take(budget)
            .ToList();

        // Parsed once per upstream, not once per tag: thousands of tags follow a few hundred upstreams. A tag waits only
        // when every place its check would ask (its mirrors, then its source) is paused: a mirror answers for a paused source.
        bool IsPaused(string from)
        {
            if (!paused.TryGetValue(from, out var isPaused))
            {
                isPaused = paused[from] = ImageReference.TryParse(from, out var source, out _)
                    && mirrorsInForce.PlacesFor(source.Registry, source.Repository, byDigest: source.Digest is not null)
                        .All(place => pauses.PausedUntil(place.Registry) is not null);
            }

            return isPaused;
        }

        // One statement per thousand leases, not one per tag: a tick over 10,000 due tags stays short.
        // Until the lease ends no other tick queues these tags again (ScheduleOptions.LeaseSeconds).
        var leasedUntil = now + TimeSpan.FromSeconds(settings.LeaseSeconds);
        foreach (var chunk in due.Select(d => d.Id).Chunk(1000))
        {
            await db.TagSchedules.Where(s => chunk.Contains(s.Id)).ExecuteUpdateAsync(set => set.SetProperty(s => s.LeasedUntil, leasedUntil), ct);
        }

        await SpendAsync(db, bucket, budget, due.Count, ct);
        return [.. due
            .GroupBy(d => d.FromKind == TagSourceKind.DockerImage ? $"{d.FromName}{(d.Insecure ? " (insecure)" : "")}" : $"istag {d.FromNamespace}/{d.FromName}")
            .Select(g => new ScheduledCheck(g.Key, [.. g.Select(d => d.Id)]))];
    }

    /// <summary>
    /// Checks one group of tags that share an upstream; the first check's <c>HEAD</c> answers for the others.
    /// <paramref name="jobId"/> names the background job doing it, for the monitoring page's links.
    /// </summary>
    public async Task RunAsync(ScheduledCheck check, CancellationToken ct = default, string? jobId = null)
    {
        using var span = DashboardTelemetry.Source.StartActivity("scheduled check");
        span?.SetTag("dashboard.upstream", check.Upstream).SetTag("dashboard.tags", check.ScheduleIds.Length);
        // One read of the group's schedules and tags, one batch of imports, one save of the schedules.
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.TagSchedules.Where(s => check.ScheduleIds.Contains(s.Id)).ToListAsync(ct);
        var streamIds = rows.Select(r => r.ImageStreamId).Distinct().ToList();
        var tagNames = rows.Select(r => r.Tag).Distinct().ToList();
        var tags = await db.SpecTags.AsNoTracking().Where(t => streamIds.Contains(t.ImageStreamId) && tagNames.Contains(t.Name))
            .Select(t => new
            {
                t.ImageStreamId,
                t.Name,
                t.IntervalSeconds,
                Stream = db.ImageStreams.Where(s => s.Id == t.ImageStreamId).Select(s => new { s.Name, Namespace = s.Namespace.Name }).First(),
            })
            .ToListAsync(ct);
        var due = rows.Select(row => (Row: row, Tag: tags.Find(t => t.ImageStreamId == row.ImageStreamId && t.Name == row.Tag)))
            .Where(d => d.Tag is not null)
            .Select(d => (d.Row, Key: new TagKey(d.Tag!.Stream.Namespace, d.Tag.Stream.Name, d.Tag.Name), d.Tag.IntervalSeconds))
            .ToList();
        var started = clock.GetTimestamp();
        var outcomes = await importer.ImportTagsAsync(Caller.System, [.. due.Select(d => d.Key)], new ImportBatch { Heads = new UpstreamHeads() }, ct);
        // The group's checks ran one after the other (the first HEAD answers for the rest): each took its share.
        var duration = outcomes.Count == 0 ? TimeSpan.Zero : clock.GetElapsedTime(started) / outcomes.Count;
        var results = new List<CheckResult>(due.Count);
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var (row, key, intervalSeconds) in due)
        {
            if (!outcomes.TryGetValue(key, out var outcome))
            {
                continue;
            }

            var interval = SchedulePlanner.Interval(intervalSeconds, settingsInForce.Current);
            var failures = outcome.Succeeded ? 0 : row.ConsecutiveFailures + 1;
            var next = SchedulePlanner.NextCheck(now, interval, failures, Random.Shared.NextDouble());
            row.Record(now, duration, outcome.Succeeded, outcome.Changed, outcome.Reason, outcome.Message, next, jobId);
            results.Add(new CheckResult(now, duration, outcome.Reason, outcome.Succeeded, outcome.Changed));
            if (!outcome.Succeeded)
            {
                logger.LogInformation("Scheduled check of {Namespace}/{Stream}:{Tag} failed ({Failures} in a row), next at {Next:u}: {Message}",
                    key.Namespace, key.Stream, key.Tag, failures, next, outcome.Message);
            }
        }

        await db.SaveChangesAsync(ct);
        await activity.RecordAsync(results, ct);
    }

    /// <summary>
    /// Creates schedules for newly scheduled tags (spread over their first interval) and drops those of unscheduled ones.
    /// </summary>
    /// <returns>Whether any schedule came or went.</returns>
    private static async Task<bool> ReconcileAsync(DashboardDbContext db, ScheduleOptions settings, DateTime now, CancellationToken ct)
    {
        var missing = await db.SpecTags.Where(t => t.Scheduled)
            .Where(t => !db.TagSchedules.Any(s => s.ImageStreamId == t.ImageStreamId && s.Tag == t.Name))
            .Select(t => new { t.ImageStreamId, t.Name, t.IntervalSeconds })
            .ToListAsync(ct);
        foreach (var tag in missing)
        {
            var first = SchedulePlanner.FirstCheck(now, SchedulePlanner.Interval(tag.IntervalSeconds, settings), Random.Shared.NextDouble());
            db.TagSchedules.Add(new TagSchedule(tag.ImageStreamId, tag.Name, first));
        }

        var dropped = await db.TagSchedules
            .Where(s => !db.SpecTags.Any(t => t.ImageStreamId == s.ImageStreamId && t.Name == s.Tag && t.Scheduled))
            .ExecuteDeleteAsync(ct);
        await db.SaveUniqueAsync("", "another tick created the same schedules", ct);
        return missing.Count > 0 || dropped > 0;
    }

    /// <summary>
    /// A token bucket of <c>MaxImportsPerMinute</c> per minute (burst: one minute's worth), as OpenShift's scheduler. Its
    /// state is in the database, beside the settings, so the limit holds over every instance whichever runs the tick
    /// (ticks run one at a time); the row is saved by <see cref="SpendAsync"/> at the end of the tick.
    /// </summary>
    private static async Task<(int Taken, ScheduleSettingsRow? Bucket)> TakeBudgetAsync(DashboardDbContext db, ScheduleOptions settings, DateTime now,
        CancellationToken ct)
    {
        if (settings.MaxImportsPerMinute < 0)
        {
            return (int.MaxValue, null);
        }

        var row = await db.ScheduleSettings.OrderBy(r => r.Id).FirstOrDefaultAsync(ct);
        if (row is null)
        {
            row = new ScheduleSettingsRow();
            db.ScheduleSettings.Add(row);
        }

        var capacity = Math.Max(1, settings.MaxImportsPerMinute);
        var tokens = row.BudgetRefilledAt is { } refilledAt
            ? Math.Min(capacity, (row.BudgetTokens ?? 0) + Math.Max(0, (now - refilledAt).TotalMinutes) * settings.MaxImportsPerMinute)
            : capacity;
        var taken = (int)Math.Floor(tokens);
        (row.BudgetTokens, row.BudgetRefilledAt) = (tokens - taken, now);
        return (taken, row);
    }

    /// <summary>
    /// Stores what the tick spent. A tick that leased nothing saves nothing: the stored tokens and time give the same
    /// budget at the next tick (the refill is linear and capped), so an idle scheduler writes no row every tick.
    /// </summary>
    private static async Task SpendAsync(DashboardDbContext db, ScheduleSettingsRow? bucket, int taken, int spent, CancellationToken ct)
    {
        if (bucket is null || spent == 0)
        {
            return;
        }

        bucket.BudgetTokens += taken - spent;
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another instance wrote the row first (only possible on its very first tick): its budget stands.
        }
    }
}
