using Dashboard.Domain.Access;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Scheduling;

public sealed record ScheduleQuery(string? Search = null, bool FailingOnly = false, int Skip = 0, int Take = 50);

public sealed record ScheduleRow(string Namespace, string Stream, string Tag, string From, int IntervalSeconds, DateTime? LastCheck,
    string? LastResult, string? LastMessage, int? LastDurationMs, DateTime NextCheck, int ConsecutiveFailures, DateTime? LastChange, string? LastJobId);

/// <summary>Checks, failures and changes over a period, over every instance.</summary>
public sealed record CheckTotals(int Checks, int Failures, int Changes);

public sealed record PausedRegistry(string Registry, DateTime Until);

/// <summary>The background job system's state (queue, servers, workers), as the host reports it.</summary>
public sealed record JobCounts(long Queued, int Servers, int Workers);

/// <summary>Reads the job system's counters; the host implements it over Hangfire.</summary>
public interface IJobStatistics
{
    JobCounts Read();
}

internal sealed class NoJobStatistics : IJobStatistics
{
    public JobCounts Read() => new(0, 0, 0);
}

/// <summary>
/// The schedule monitoring page's data: rows and tag counters over the tags the caller may read; check totals, the
/// rate limit in use, paused registries and job counters over the whole installation.
/// </summary>
public sealed record ScheduleOverview(IReadOnlyList<ScheduleRow> Items, int Total, int Scheduled, int Failing, int DueNow, bool Disabled,
    CheckTotals LastHour, CheckTotals LastDay, int ChecksThisMinute, int MaxImportsPerMinute, IReadOnlyList<PausedRegistry> PausedRegistries,
    JobCounts Jobs);

/// <summary>Reads schedules for the monitoring page and API, within the caller's namespaces.</summary>
public sealed class ScheduleQueries(
    IDbContextFactory<DashboardDbContext> contexts, ScheduleSettings options, ScheduleActivity activity, RegistryPauses pauses,
    IJobStatistics jobs, TimeProvider clock)
{
    public async Task<ScheduleOverview> QueryAsync(Caller caller, ScheduleQuery query, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var readable = db.Readable(caller).Select(n => n.Id);
        var rows = db.TagSchedules.AsNoTracking()
            .Join(db.ImageStreams.Where(s => readable.Contains(s.NamespaceId)), s => s.ImageStreamId, s => s.Id, (schedule, stream) => new { schedule, stream })
            .Join(db.SpecTags, x => new { x.schedule.ImageStreamId, Name = x.schedule.Tag }, t => new { t.ImageStreamId, t.Name },
                (x, spec) => new { x.schedule, Namespace = x.stream.Namespace.Name, Stream = x.stream.Name, spec.FromName, spec.IntervalSeconds });
        var scheduled = await rows.CountAsync(ct);
        var failing = await rows.CountAsync(r => r.schedule.ConsecutiveFailures > 0, ct);
        var due = await rows.CountAsync(r => r.schedule.NextCheckAt <= now, ct);
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = query.Search.Trim().ToLowerInvariant();
            rows = rows.Where(r => r.Namespace.Contains(term) || r.Stream.Contains(term) || r.FromName.Contains(term));
        }

        if (query.FailingOnly)
        {
            rows = rows.Where(r => r.schedule.ConsecutiveFailures > 0);
        }

        var total = await rows.CountAsync(ct);
        var page = await rows.OrderBy(r => r.schedule.NextCheckAt).ThenBy(r => r.schedule.Id)
            .Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 500)).ToListAsync(ct);
        var settings = options.Current;
        var minutes = await activity.MinutesAsync(now - TimeSpan.FromDays(1), ct);
        return new ScheduleOverview(
            [.. page.Select(r => new ScheduleRow(r.Namespace, r.Stream, r.schedule.Tag, r.FromName,
                (int)SchedulePlanner.Interval(r.IntervalSeconds, settings).TotalSeconds, r.schedule.LastCheckAt, r.schedule.LastResult,
                r.schedule.LastMessage, r.schedule.LastDurationMs, r.schedule.NextCheckAt, r.schedule.ConsecutiveFailures, r.schedule.LastChangeAt,
                r.schedule.LastJobId))],
            total, scheduled, failing, due, settings.Disabled,
            Totals(minutes, now - TimeSpan.FromHours(1)), Totals(minutes, now - TimeSpan.FromDays(1)),
            minutes.LastOrDefault(m => m.Minute == CheckMinute.Of(now))?.Checks ?? 0, settings.MaxImportsPerMinute,
            [.. pauses.PausedRegistries().Select(p => new PausedRegistry(p.Key, p.Value)).OrderBy(p => p.Registry)],
            jobs.Read());
    }

    /// <summary>Checks and failures per minute over the last day, oldest first, with the minutes without checks as zeros.</summary>
    public async Task<IReadOnlyList<CheckMinute>> PerMinuteAsync(CancellationToken ct = default)
    {
        var now = CheckMinute.Of(clock.GetUtcNow().UtcDateTime);
        var since = now - TimeSpan.FromDays(1);
        var stored = (await activity.MinutesAsync(since, ct)).ToDictionary(m => m.Minute);
        return [.. Enumerable.Range(1, 24 * 60).Select(i => since + TimeSpan.FromMinutes(i))
            .Select(minute => stored.GetValueOrDefault(minute) ?? new CheckMinute(minute))];
    }

    private static CheckTotals Totals(IReadOnlyList<CheckMinute> minutes, DateTime since)
    {
        var from = CheckMinute.Of(since);
        var within = minutes.Where(m => m.Minute > from).ToList();
        return new CheckTotals(within.Sum(m => m.Checks), within.Sum(m => m.Failures), within.Sum(m => m.Changes));
    }
}
