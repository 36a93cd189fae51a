using Dashboard.Domain.Access;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Scheduling;

public sealed record ScheduleQuery(string? Search = null, bool FailingOnly = false, int Skip = 0, int Take = 50);

public sealed record ScheduleRow(string Namespace, string Stream, string Tag, string From, int IntervalSeconds, DateTime? LastCheck,
    string? LastResult, string? LastMessage, int? LastDurationMs, DateTime NextCheck, int ConsecutiveFailures, DateTime? LastChange);

/// <summary>The schedule monitoring page's data: rows, and counters over the tags the caller may read.</summary>
public sealed record ScheduleOverview(IReadOnlyList<ScheduleRow> Items, int Total, int Scheduled, int Failing, int DueNow, bool Disabled);

/// <summary>Reads schedules for the monitoring page and API, within the caller's namespaces.</summary>
public sealed class ScheduleQueries(IDbContextFactory<DashboardDbContext> contexts, ScheduleSettings options, TimeProvider clock)
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
        return new ScheduleOverview(
            [.. page.Select(r => new ScheduleRow(r.Namespace, r.Stream, r.schedule.Tag, r.FromName,
                (int)SchedulePlanner.Interval(r.IntervalSeconds, settings).TotalSeconds, r.schedule.LastCheckAt, r.schedule.LastResult,
                r.schedule.LastMessage, r.schedule.LastDurationMs, r.schedule.NextCheckAt, r.schedule.ConsecutiveFailures, r.schedule.LastChangeAt))],
            total, scheduled, failing, due, settings.Disabled);
    }
}
