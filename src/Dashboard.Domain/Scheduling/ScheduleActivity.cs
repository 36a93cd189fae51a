using Dashboard.Domain.Diagnostics;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Scheduling;

/// <summary>Checks, failures and changes of one minute, over every instance: the monitoring page's counters and chart.</summary>
public sealed class CheckMinute
{
    private CheckMinute()
    {
    }

    public CheckMinute(DateTime minute) => Minute = minute;

    /// <summary>The minute's start (UTC, seconds zero).</summary>
    public DateTime Minute { get; private set; }

    public int Checks { get; private set; }

    public int Failures { get; private set; }

    public int Changes { get; private set; }

    public long DurationMs { get; private set; }

    public static DateTime Of(DateTime at) => new(at.Ticks - at.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Utc);
}

/// <summary>One finished check, as the activity log and the metrics see it.</summary>
public sealed record CheckResult(DateTime At, TimeSpan Duration, string Result, bool Succeeded, bool Changed);

/// <summary>
/// What scheduled import did: per-minute totals in the database (shared by instances, kept two days), counters since
/// start for <c>/metrics</c>, and a signal to open pages that rows changed (<see cref="Subscribe"/>).
/// </summary>
public sealed class ScheduleActivity
{
    private readonly IDbContextFactory<DashboardDbContext> _contexts;
    private readonly IInstanceSignals _signals;
    private readonly DashboardTelemetry _telemetry;

    public ScheduleActivity(IDbContextFactory<DashboardDbContext> contexts, IInstanceSignals signals, DashboardTelemetry telemetry)
    {
        _contexts = contexts;
        _signals = signals;
        _telemetry = telemetry;
        // Another instance's checks show on this instance's open pages too.
        signals.Subscribe(InstanceTopics.ScheduleActivity, _pages.TellAsync);
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _byResult = new(StringComparer.Ordinal);
    private readonly PageListeners _pages = new();

    /// <summary>Checks since start by result (Imported, Unchanged, Unreachable…).</summary>
    public IReadOnlyDictionary<string, long> ChecksByResult
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<string, long>(_byResult);
            }
        }
    }

    /// <summary>Adds finished checks to the minute totals and counters and tells open pages.</summary>
    public async Task RecordAsync(IReadOnlyList<CheckResult> checks, CancellationToken ct = default)
    {
        if (checks.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var check in checks)
            {
                _byResult[check.Result] = _byResult.GetValueOrDefault(check.Result) + 1;
                _telemetry.CheckDuration.Record(check.Duration.TotalSeconds);
            }
        }

        await using var db = await _contexts.CreateDbContextAsync(ct);
        foreach (var minute in checks.GroupBy(c => CheckMinute.Of(c.At)))
        {
            var (count, failures, changes, ms) = (minute.Count(), minute.Count(c => !c.Succeeded), minute.Count(c => c.Changed),
                (long)minute.Sum(c => c.Duration.TotalMilliseconds));
            // Add in place (instances share the row); create the row when the minute has none yet, and add again if another
            // instance created it first.
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var updated = await db.CheckMinutes.Where(m => m.Minute == minute.Key).ExecuteUpdateAsync(set => set
                    .SetProperty(m => m.Checks, m => m.Checks + count)
                    .SetProperty(m => m.Failures, m => m.Failures + failures)
                    .SetProperty(m => m.Changes, m => m.Changes + changes)
                    .SetProperty(m => m.DurationMs, m => m.DurationMs + ms), ct);
                if (updated > 0)
                {
                    break;
                }

                db.CheckMinutes.Add(new CheckMinute(minute.Key));
                try
                {
                    await db.SaveChangesAsync(ct);
                }
                catch (DbUpdateException)
                {
                    db.ChangeTracker.Clear();
                }
            }
        }

        await PublishAsync();
    }

    /// <summary>The minute totals since <paramref name="since"/>, oldest first.</summary>
    public async Task<IReadOnlyList<CheckMinute>> MinutesAsync(DateTime since, CancellationToken ct = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(ct);
        var from = CheckMinute.Of(since);
        return await db.CheckMinutes.AsNoTracking().Where(m => m.Minute >= from).OrderBy(m => m.Minute).ToListAsync(ct);
    }

    /// <summary>Calls <paramref name="changed"/> after checks were recorded or a schedule changed, until disposed.</summary>
    public IDisposable Subscribe(Func<Task> changed) => _pages.Add(changed);

    /// <summary>Tells open pages, on this instance and the others, that schedules changed (a check, a manual import, a settings change).</summary>
    public async Task PublishAsync()
    {
        await _signals.PublishAsync(InstanceTopics.ScheduleActivity);
        await _pages.TellAsync();
    }
}
