namespace Dashboard.Domain.Scheduling;

/// <summary>When a scheduled tag is checked next: its interval, doubled per consecutive failure up to eight times, with jitter.</summary>
public static class SchedulePlanner
{
    public const int MaxBackoffFactor = 8;

    /// <summary>Jitter spreads checks by ±10% so tags added together drift apart instead of firing in the same minute forever.</summary>
    public const double JitterFraction = 0.1;

    /// <summary>The interval a tag gets: what it asks for (or the default), never below the admin minimum.</summary>
    public static TimeSpan Interval(int? requestedSeconds, ScheduleOptions options) =>
        TimeSpan.FromSeconds(Math.Max(requestedSeconds ?? options.DefaultIntervalSeconds, options.MinimumIntervalSeconds));

    /// <summary>The interval after <paramref name="consecutiveFailures"/> failures in a row: doubled each time, at most 8×.</summary>
    public static TimeSpan Backoff(TimeSpan interval, int consecutiveFailures) =>
        interval * Math.Min(MaxBackoffFactor, 1L << Math.Clamp(consecutiveFailures, 0, 3));

    /// <summary>The next check after one at <paramref name="now"/>; <paramref name="random"/> in [0, 1) picks the jitter.</summary>
    public static DateTime NextCheck(DateTime now, TimeSpan interval, int consecutiveFailures, double random) =>
        now + Backoff(interval, consecutiveFailures) * (1 + JitterFraction * (2 * random - 1));

    /// <summary>The first check of a newly scheduled tag: somewhere in its first interval, so 10,000 new tags spread over it.</summary>
    public static DateTime FirstCheck(DateTime now, TimeSpan interval, double random) => now + interval * random;
}
