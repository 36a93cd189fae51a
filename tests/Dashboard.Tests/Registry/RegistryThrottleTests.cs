using Dashboard.Domain.Registry;
using Microsoft.Extensions.Time.Testing;

namespace Dashboard.Tests.Registry;

/// <summary>The per-registry bounds, with a fake clock: in flight and per second, per host.</summary>
public sealed class RegistryThrottleTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task No_more_requests_than_the_bound_are_in_flight_and_a_finished_one_lets_the_next_start()
    {
        var throttle = new RegistryThrottle(_clock);
        throttle.Use(_ => new RegistryBounds(2, 0));
        using var first = await throttle.EnterAsync("quay.io", default);
        using var second = await throttle.EnterAsync("quay.io", default);
        var third = throttle.EnterAsync("quay.io", default).AsTask();
        var otherHost = throttle.EnterAsync("ghcr.io", default).AsTask();

        Assert.True(otherHost.IsCompletedSuccessfully, "another registry waited for this one's bound");
        // Nothing frees a slot or moves the fake clock, so a waiting request stays waiting: no need to sleep to see it.
        Assert.False(third.IsCompleted);
        Assert.Equal(2, throttle.InFlight("quay.io"));

        first.Dispose();
        using var started = await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(2, throttle.InFlight("quay.io"));
        (await otherHost).Dispose();
    }

    [Fact]
    public async Task A_second_of_burst_starts_at_once_and_then_requests_keep_the_pace()
    {
        var throttle = new RegistryThrottle(_clock);
        throttle.Use(_ => new RegistryBounds(100, 4));
        for (var i = 0; i < 4; i++)
        {
            (await throttle.EnterAsync("docker.io", default)).Dispose();
        }

        var fifth = throttle.EnterAsync("docker.io", default).AsTask();
        var sixth = throttle.EnterAsync("docker.io", default).AsTask();
        Assert.False(fifth.IsCompleted);

        _clock.Advance(TimeSpan.FromMilliseconds(250));
        (await fifth.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        Assert.False(sixth.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(250));
        (await sixth.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }

    [Fact]
    public async Task A_waiting_request_gives_up_its_place_when_cancelled()
    {
        var throttle = new RegistryThrottle(_clock);
        throttle.Use(_ => new RegistryBounds(1, 0));
        var held = await throttle.EnterAsync("quay.io", default);
        using var cancel = new CancellationTokenSource();
        var waiting = throttle.EnterAsync("quay.io", cancel.Token).AsTask();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        held.Dispose();
        (await throttle.EnterAsync("quay.io", default).AsTask().WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }
}
