using Dashboard.Domain.Access;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Auditing;

/// <summary>Filters for the Events page; empty fields do not filter.</summary>
public sealed record AuditQuery(string? Namespace = null, string? UserName = null, string? Kind = null, int Skip = 0, int Take = 50);

/// <summary>Reads the audit trail. Entries are written by each service in the same save as the change they describe.</summary>
public sealed class AuditTrail(IDbContextFactory<DashboardDbContext> contexts)
{
    /// <summary>Adds an entry to be saved together with the change it records, so neither exists without the other.</summary>
    internal static void Record(DashboardDbContext db, TimeProvider clock, Caller caller, string action, string kind,
        string? @namespace, string target, string summary) =>
        db.AuditEntries.Add(new AuditEntry(clock.GetUtcNow().UtcDateTime, caller.UserName, action, kind, @namespace, target, summary));

    /// <summary>Newest first. Non-admins see the entries of the namespaces they may read, never global ones (users, settings).</summary>
    public async Task<Page<AuditEntry>> QueryAsync(Caller caller, AuditQuery query, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var entries = db.AuditEntries.AsNoTracking();
        if (!caller.IsAdmin)
        {
            var readable = db.Readable(caller).Select(n => n.Name);
            entries = entries.Where(e => e.Namespace != null && readable.Contains(e.Namespace));
        }

        if (!string.IsNullOrWhiteSpace(query.Namespace))
        {
            entries = entries.Where(e => e.Namespace == query.Namespace.Trim());
        }

        if (!string.IsNullOrWhiteSpace(query.UserName))
        {
            entries = entries.Where(e => e.UserName == query.UserName.Trim());
        }

        if (!string.IsNullOrWhiteSpace(query.Kind))
        {
            entries = entries.Where(e => e.Kind == query.Kind.Trim());
        }

        var total = await entries.CountAsync(ct);
        var items = await entries.OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
            .Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 500)).ToListAsync(ct);
        return new Page<AuditEntry>(items, total);
    }

    /// <summary>The kinds of things the trail records, for the filter's choices.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["Namespace", "Membership", "ImageStream", "Tag", "Image", "PullSecret", "User", "AccessToken", "Settings"];
}
