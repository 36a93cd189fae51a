using Dashboard.Domain.Scheduling;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Registry;

/// <summary>
/// Tells the scheduler's <see cref="RegistryPauses"/> what a registry said of its limits: the <c>RateLimit-*</c> headers
/// of every answer (Docker Hub: https://docs.docker.com/docker-hub/usage/pulls/), a pause while <c>RateLimit-Remaining</c>
/// is at the floor, and a pause for its <c>Retry-After</c> when a 429 is still the answer once retries gave up.
/// </summary>
public sealed class RateLimitObserver(RegistryPauses pauses, IOptions<RegistryOptions> options, TimeProvider clock) : RegistryCallHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, RegistryTarget target, RegistryCall call, CancellationToken ct)
    {
        var response = await SendOnAsync(request, ct);
        var limit = Leading(response, "RateLimit-Limit");
        var remaining = Leading(response, "RateLimit-Remaining");
        if (limit is not null || remaining is not null)
        {
            pauses.RecordRateLimit(target.Registry, limit, remaining);
        }

        if (remaining <= options.Value.RateLimitFloor)
        {
            pauses.Pause(target.Registry, Window(response));
        }

        if (response.StatusCode == System.Net.HttpStatusCode.TooManyRequests)
        {
            var wait = RetryAfter(response, clock);
            pauses.Pause(target.Registry, wait > TimeSpan.Zero ? wait : TimeSpan.FromMinutes(1));
        }

        return response;
    }

    /// <summary>How long a 429 asks to wait (<c>Retry-After</c> as seconds or a date); a second when it does not say.</summary>
    public static TimeSpan RetryAfter(HttpResponseMessage response, TimeProvider clock)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - clock.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return TimeSpan.FromSeconds(1);
    }

    private static int? Leading(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && int.TryParse(values.First().Split(';')[0], out var n) ? n : null;

    /// <summary>Docker Hub: "RateLimit-Remaining: 7;w=21600", the window in seconds; a minute when it names none.</summary>
    private static TimeSpan Window(HttpResponseMessage response) =>
        response.Headers.TryGetValues("RateLimit-Remaining", out var values)
        && values.First().Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("w=", StringComparison.Ordinal)) is { } w
        && int.TryParse(w[2..], out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromMinutes(1);
}
