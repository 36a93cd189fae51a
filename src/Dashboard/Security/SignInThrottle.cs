using System.Collections.Concurrent;
using System.Net;
using System.Threading.RateLimiting;

namespace Dashboard.Security;

/// <summary>
/// Failed password sign-ins, counted where they come from (docs/decisions/0011-sign-in-throttling.md). A client address
/// gets <see cref="FailuresPerAddressPerMinute"/> failed attempts a minute over all user names (a sliding window of
/// System.Threading.RateLimiting, the library behind ASP.NET Core's rate limiter); past that its password attempts are
/// refused before a password hash is computed, so failures cannot be used to burn CPU. A user name is locked for
/// <see cref="LockoutDuration"/> after <see cref="FailuresPerUserAndAddress"/> failures from one address — for that
/// address only: whoever knows the admin's name can no longer lock the admin out everywhere.
/// </summary>
internal sealed class SignInThrottle(TimeProvider clock) : IDisposable
{
    public const int FailuresPerAddressPerMinute = 20;
    public const int FailuresPerUserAndAddress = 5;
    public static readonly TimeSpan LockoutDuration = TimeSpan.FromMinutes(15);

    /// <summary>The most user-and-address pairs remembered; past it the oldest are forgotten (an attacker cannot grow memory).</summary>
    private const int MaxTracked = 100_000;

    private readonly PartitionedRateLimiter<string> _addresses = PartitionedRateLimiter.Create<string, string>(address =>
        // A sliding window counts whole failures; a token bucket refills by fractions, and "any left?" would say yes too early.
        RateLimitPartition.GetSlidingWindowLimiter(address, _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = FailuresPerAddressPerMinute,
            Window = TimeSpan.FromMinutes(1),
            SegmentsPerWindow = 6,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    private readonly ConcurrentDictionary<(string User, string Address), (int Failures, DateTimeOffset Since)> _pairs = new();

    /// <summary>Why a password attempt of <paramref name="userId"/> from this address is not even checked; null when it may be.</summary>
    public string? Refusal(string userId, IPAddress? address)
    {
        var from = Key(address);
        using (var lease = _addresses.AttemptAcquire(from, 0))
        {
            if (!lease.IsAcquired)
            {
                return $"too many failed sign-ins from {from}; wait a minute";
            }
        }

        return _pairs.TryGetValue((userId, from), out var pair) && pair.Failures >= FailuresPerUserAndAddress
            && clock.GetUtcNow() - pair.Since < LockoutDuration
                ? $"locked for {from} after {FailuresPerUserAndAddress} failed sign-ins; try again later or from your usual address"
                : null;
    }

    public void Failed(string userId, IPAddress? address)
    {
        var from = Key(address);
        _addresses.AttemptAcquire(from, 1).Dispose();
        if (_pairs.Count >= MaxTracked)
        {
            _pairs.Clear();
        }

        var now = clock.GetUtcNow();
        _pairs.AddOrUpdate((userId, from), (1, now), (_, pair) => now - pair.Since >= LockoutDuration ? (1, now) : (pair.Failures + 1, pair.Since));
    }

    public void Succeeded(string userId, IPAddress? address) => _pairs.TryRemove((userId, Key(address)), out _);

    public void Dispose() => _addresses.Dispose();

    private static string Key(IPAddress? address) =>
        address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
}
