using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Dashboard.Domain.Auditing;

/// <summary>
/// Writes each audit entry to the log as well, once it is saved, so changes show up wherever the operator collects
/// logs. Summaries never carry secrets: services describe a password change as "password set".
/// </summary>
internal sealed class AuditLogInterceptor(ILogger<AuditLogInterceptor> logger) : SaveChangesInterceptor
{
    private readonly AsyncLocal<List<AuditEntry>?> _pending = new();

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken ct = default)
    {
        _pending.Value = eventData.Context?.ChangeTracker.Entries<AuditEntry>()
            .Where(e => e.State == EntityState.Added).Select(e => e.Entity).ToList();
        return base.SavingChangesAsync(eventData, result, ct);
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken ct = default)
    {
        foreach (var entry in _pending.Value ?? [])
        {
            logger.LogInformation("Audit: {User} {Action} {Kind} {Namespace}/{Target}: {Summary}",
                entry.UserName, entry.Action, entry.Kind, entry.Namespace ?? "-", entry.Target, entry.Summary);
        }

        _pending.Value = null;
        return base.SavedChangesAsync(eventData, result, ct);
    }
}
