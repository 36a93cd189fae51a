using System.Collections.Concurrent;
using Dashboard.Domain.Registry;
using Microsoft.Extensions.Logging;

namespace Dashboard.Domain.Scheduling;

/// <summary>
/// Which registries scheduled work leaves alone, and until when: the registry client's rate-limit observer reports what
/// registries say (429, <c>RateLimit-*</c>), the scheduler and its monitoring read it. Per app instance.
/// </summary>
public sealed class RegistryPauses(TimeProvider clock, ILogger<RegistryPauses> logger)
{
    private readonly ConcurrentDictionary<string, RateLimitState> _rateLimits = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DateTime> _pausedUntil = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The rate-limit headers each registry sent last.</summary>
    public IReadOnlyDictionary<string, RateLimitState> RateLimits => _rateLimits;

    /// <summary>Until when scheduled work should leave <paramref name="registry"/> alone; <c>null</c> when it is not paused.</summary>
    public DateTime? PausedUntil(string registry) =>
        _pausedUntil.TryGetValue(registry, out var until) && until > clock.GetUtcNow().UtcDateTime ? until : null;

    /// <summary>The registries paused now, with the time each resumes.</summary>
    public IReadOnlyDictionary<string, DateTime> PausedRegistries()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return _pausedUntil.Where(p => p.Value > now).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
    }

    public void RecordRateLimit(string registry, int? limit, int? remaining) =>
        _rateLimits[registry] = new RateLimitState(limit, remaining, clock.GetUtcNow().UtcDateTime);

    /// <summary>Pauses <paramref name="registry"/> for <paramref name="duration"/>; a longer pause in force stays.</summary>
    public void Pause(string registry, TimeSpan duration)
    {
        var until = clock.GetUtcNow().UtcDateTime + duration;
        _pausedUntil.AddOrUpdate(registry, until, (_, current) => current > until ? current : until);
        logger.LogWarning("Registry {Registry} paused for scheduled checks until {Until:u}", registry, until);
    }
}
