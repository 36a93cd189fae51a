using System.ComponentModel.DataAnnotations;

namespace Dashboard.Domain.Registry;

/// <summary>The <c>Dashboard:Registries</c> settings: how the dashboard talks to upstream registries.</summary>
public sealed class RegistryOptions
{
    public const string Section = "Dashboard:Registries";

    /// <summary>Allow registries on loopback addresses (tests and local development). Link-local addresses are always refused.</summary>
    public bool AllowLoopback { get; set; }

    /// <summary>Limit for one attempt of a request (connection and redirects included), and for reading its body.</summary>
    [Range(1, 600)]
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Attempts after the first for a 5xx answer, a connection error, an attempt out of time or a 429 within
    /// <see cref="MaxRetryAfterSeconds"/>, with doubling back-off or the <c>Retry-After</c> asked for.
    /// </summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>The longest <c>Retry-After</c> the client waits on a 429 before giving up with RateLimited.</summary>
    [Range(0, 300)]
    public int MaxRetryAfterSeconds { get; set; } = 10;

    /// <summary>
    /// When a registry's <c>RateLimit-Remaining</c> falls to this or below, scheduled checks leave it alone until its window
    /// resets, keeping the rest of the quota for people's pulls.
    /// </summary>
    [Range(0, 1_000_000)]
    public int RateLimitFloor { get; set; } = 5;
}
