using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Persistence;

/// <summary>
/// What one stored row with a version becomes in memory (the compiled policy, the registry mirrors): built again only when
/// the row's version moved, and the version read at most once per <paramref name="recheckEvery"/>, so another instance's
/// change arrives within that time. Readers in between never touch the database.
/// </summary>
public sealed class VersionedSnapshot<T>(TimeProvider clock, TimeSpan recheckEvery)
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private volatile Entry? _entry;

    private sealed record Entry(long Version, T Value, long CheckedAt);

    /// <summary>The value in force: kept, or built by <paramref name="build"/> when <paramref name="version"/> says the row moved.</summary>
    public async ValueTask<T> GetAsync(IDbContextFactory<DashboardDbContext> contexts, Func<DashboardDbContext, CancellationToken, Task<long>> version,
        Func<DashboardDbContext, CancellationToken, Task<T>> build, CancellationToken ct)
    {
        var entry = _entry;
        if (entry is not null && clock.GetElapsedTime(entry.CheckedAt) < recheckEvery)
        {
            return entry.Value;
        }

        await _loading.WaitAsync(ct);
        try
        {
            entry = _entry;
            if (entry is not null && clock.GetElapsedTime(entry.CheckedAt) < recheckEvery)
            {
                return entry.Value;
            }

            await using var db = await contexts.CreateDbContextAsync(ct);
            var stored = await version(db, ct);
            if (entry is not null && entry.Version == stored)
            {
                _entry = entry with { CheckedAt = clock.GetTimestamp() };
                return entry.Value;
            }

            var value = await build(db, ct);
            _entry = new Entry(stored, value, clock.GetTimestamp());
            return value;
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>What this instance just saved: in force at once, without reading it back.</summary>
    public void Keep(long version, T value) => _entry = new Entry(version, value, clock.GetTimestamp());

    /// <summary>Reads the version at the next use (another instance said it changed).</summary>
    public void Forget() => _entry = null;
}
