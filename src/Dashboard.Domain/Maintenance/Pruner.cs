using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Maintenance;

public sealed record PruneResult(int ExpiredTokens, int AuditEntries);

/// <summary>
/// Deletes what is kept only for a while: expired access tokens, audit entries past their retention, old per-minute check
/// totals, and repository import runs that ended a week ago (their tags and audit entries stay).
/// </summary>
public sealed class Pruner(IDbContextFactory<DashboardDbContext> contexts, TimeProvider clock)
{
    public async Task<PruneResult> PruneAsync(TimeSpan auditRetention, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var auditCutoff = now - auditRetention;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var tokens = await db.AccessTokens.Where(t => t.ExpiresAt != null && t.ExpiresAt <= now).ExecuteDeleteAsync(ct);
        var audit = await db.AuditEntries.Where(a => a.At < auditCutoff).ExecuteDeleteAsync(ct);
        // The monitoring page shows a day of minutes; a second day keeps yesterday's comparison.
        var minuteCutoff = now - TimeSpan.FromDays(2);
        await db.CheckMinutes.Where(m => m.Minute < minuteCutoff).ExecuteDeleteAsync(ct);
        var runCutoff = now - TimeSpan.FromDays(7);
        await db.RepositoryImportRuns.Where(r => r.FinishedAt < runCutoff).ExecuteDeleteAsync(ct);
        return new PruneResult(tokens, audit);
    }
}
