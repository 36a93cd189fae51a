using System.Collections.Concurrent;

namespace Dashboard.Domain.Registry;

/// <summary>How hard the dashboard may press one registry host: requests in flight and requests started per second (0: no bound).</summary>
public sealed record RegistryBounds(int Concurrency, double RequestsPerSecond)
{
    public static readonly RegistryBounds None = new(int.MaxValue, 0);
}

/// <summary>
/// Bounds the requests the dashboard sends to each registry host, whatever sends them (scheduled checks, imports by hand,
/// repository imports): at most <see cref="RegistryBounds.Concurrency"/> in flight, started no faster than
/// <see cref="RegistryBounds.RequestsPerSecond"/>. The bounds are read per request, so a changed setting applies at once;
/// they hold per app instance.
/// </summary>
public sealed class RegistryThrottle(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Gate> _gates = new(StringComparer.OrdinalIgnoreCase);
    private Func<string, RegistryBounds> _bounds = _ => RegistryBounds.None;

    /// <summary>Where the bounds come from (the host wires the scheduler settings in force).</summary>
    public void Use(Func<string, RegistryBounds> bounds) => _bounds = bounds;

    public RegistryBounds BoundsFor(string registry) => _bounds(registry);

    /// <summary>Requests to <paramref name="registry"/> in flight now.</summary>
    public int InFlight(string registry) => _gates.TryGetValue(registry, out var gate) ? gate.InFlight : 0;

    /// <summary>Waits for a free slot and for the pace, then holds the slot until the returned lease is disposed.</summary>
    public async ValueTask<IDisposable> EnterAsync(string registry, CancellationToken ct)
    {
        var bounds = _bounds(registry);
        var gate = _gates.AddOrUpdate(registry, _ => new Gate(bounds.Concurrency),
            (_, existing) => existing.Concurrency == bounds.Concurrency ? existing : new Gate(bounds.Concurrency));
        await gate.Slots.WaitAsync(ct);
        try
        {
            if (bounds.RequestsPerSecond > 0)
            {
                var wait = gate.ReservePace(clock.GetTimestamp(), clock.TimestampFrequency, bounds.RequestsPerSecond);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, clock, ct);
                }
            }
        }
        catch
        {
            gate.Release();
            throw;
        }

        return gate.Lease();
    }

    /// <summary>
    /// One host's slots and pace. When an admin changes the concurrency a new gate replaces the old one; requests holding
    /// the old one finish on it, so for a moment both bounds may be in use.
    /// </summary>
    private sealed class Gate(int concurrency)
    {
        private readonly Lock _paceLock = new();
        private long _nextStart;
        private int _inFlight;

        public int Concurrency { get; } = concurrency;

        public SemaphoreSlim Slots { get; } = new(Math.Min(concurrency, 100_000));

        public int InFlight => Volatile.Read(ref _inFlight);

        /// <summary>
        /// Takes the next start time and returns how long to wait for it: a burst of one second's worth starts at once, then
        /// one request per 1/rate seconds (the generic cell rate algorithm: one timestamp, no refill timer).
        /// </summary>
        public TimeSpan ReservePace(long now, long frequency, double perSecond)
        {
            var interval = (long)(frequency / perSecond);
            var tolerance = (long)((Math.Max(1, Math.Ceiling(perSecond)) - 1) * interval);
            lock (_paceLock)
            {
                var theoretical = Math.Max(_nextStart, now);
                var start = Math.Max(now, theoretical - tolerance);
                _nextStart = theoretical + interval;
                return TimeSpan.FromSeconds((start - now) / (double)frequency);
            }
        }

        public IDisposable Lease()
        {
            Interlocked.Increment(ref _inFlight);
            return new Releaser(this);
        }

        public void Release() => Slots.Release();

        private sealed class Releaser(Gate gate) : IDisposable
        {
            private int _done;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _done, 1) == 0)
                {
                    Interlocked.Decrement(ref gate._inFlight);
                    gate.Release();
                }
            }
        }
    }
}
