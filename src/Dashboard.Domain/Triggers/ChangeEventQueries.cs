using Dashboard.Domain.Access;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Triggers;

public sealed record ChangeEventQuery(string? Namespace = null, string? Stream = null, int Skip = 0, int Take = 50);

public sealed record ChangeEventInfo(long Id, string Type, DateTime OccurredAt, string Namespace, string Stream, string Tag, string? PreviousImage,
    string Image, string DockerImageReference, long Generation);

/// <summary>The <c>image.changed</c> events of the namespaces the caller may read, newest first (the Events page and API).</summary>
public sealed class ChangeEventQueries(IDbContextFactory<DashboardDbContext> contexts)
{
    public async Task<Page<ChangeEventInfo>> QueryAsync(Caller caller, ChangeEventQuery query, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var readable = db.Readable(caller).Select(n => n.Id);
        var events = db.ChangeEvents.AsNoTracking().Where(e => readable.Contains(e.NamespaceId));
        if (!string.IsNullOrWhiteSpace(query.Namespace))
        {
            events = events.Where(e => e.Namespace == query.Namespace.Trim());
        }

        if (!string.IsNullOrWhiteSpace(query.Stream))
        {
            events = events.Where(e => e.Stream == query.Stream.Trim());
        }

        var total = await events.CountAsync(ct);
        var items = await events.OrderByDescending(e => e.Id).Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 500))
            .Select(e => new ChangeEventInfo(e.Id, e.Type, e.OccurredAt, e.Namespace, e.Stream, e.Tag, e.PreviousImage, e.Image, e.DockerImageReference, e.Generation))
            .ToListAsync(ct);
        return new Page<ChangeEventInfo>(items, total);
    }
}
