using Dashboard.Domain.Scheduling;

namespace Dashboard.Tests.Scheduling;

public sealed class SchedulePlannerTests
{
    private static readonly ScheduleOptions Defaults = new();

    [Theory]
    [InlineData(null, 900)]
    [InlineData(3600, 3600)]
    [InlineData(60, 900)]
    public void A_tag_gets_its_interval_but_never_below_the_minimum(int? requested, int expected) =>
        Assert.Equal(TimeSpan.FromSeconds(expected), SchedulePlanner.Interval(requested, Defaults));

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(3, 8)]
    [InlineData(10, 8)]
    public void Failures_double_the_interval_up_to_eight_times(int failures, int factor) =>
        Assert.Equal(TimeSpan.FromMinutes(15 * factor), SchedulePlanner.Backoff(TimeSpan.FromMinutes(15), failures));

    [Fact]
    public void Jitter_stays_within_ten_percent_of_the_interval()
    {
        var now = new DateTime(2026, 11, 27, 12, 0, 0, DateTimeKind.Utc);
        var interval = TimeSpan.FromMinutes(15);
        Assert.Equal(now + interval * 0.9, SchedulePlanner.NextCheck(now, interval, 0, 0));
        Assert.Equal(now + interval, SchedulePlanner.NextCheck(now, interval, 0, 0.5));
        Assert.True(SchedulePlanner.NextCheck(now, interval, 0, 0.999999) < now + interval * 1.1);
    }

    [Fact]
    public void Ten_thousand_new_tags_spread_over_their_first_interval()
    {
        var now = new DateTime(2026, 11, 27, 12, 0, 0, DateTimeKind.Utc);
        var random = new Random(42);
        var perMinute = Enumerable.Range(0, 10_000)
            .Select(_ => SchedulePlanner.FirstCheck(now, TimeSpan.FromMinutes(15), random.NextDouble()))
            .GroupBy(t => (int)(t - now).TotalMinutes)
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(15, perMinute.Count);
        Assert.All(perMinute.Values, n => Assert.InRange(n, 500, 850));
    }
}
