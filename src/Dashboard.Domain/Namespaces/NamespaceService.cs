using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Users;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Namespaces;

public sealed record NamespaceSummary(string Name, DateTime CreatedAt, int ImageStreams, NamespaceRole? Role, bool AnonymousPull = false, bool Shared = false);

public sealed record NamespaceMember(string UserName, NamespaceRole Role);

/// <summary>Creates and deletes namespaces (admins) and manages who may read or change them.</summary>
public sealed class NamespaceService(IDbContextFactory<DashboardDbContext> contexts, TimeProvider clock, Policy.IImageFacts facts)
{
    public async Task<IReadOnlyList<NamespaceSummary>> ListAsync(Caller caller, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.Readable(caller).OrderBy(n => n.Name)
            .Select(n => new
            {
                n.Name,
                n.CreatedAt,
                n.AnonymousPull,
                n.Shared,
                Streams = db.ImageStreams.Count(s => s.NamespaceId == n.Id),
                Role = db.Memberships.Where(m => m.NamespaceId == n.Id && m.UserId == caller.UserId).Select(m => (NamespaceRole?)m.Role).FirstOrDefault(),
            })
            .ToListAsync(ct);
        return [.. rows.Select(r => new NamespaceSummary(r.Name, r.CreatedAt, r.Streams, caller.IsAdmin ? NamespaceRole.Editor : r.Role, r.AnonymousPull, r.Shared))];
    }

    public async Task<NamespaceSummary> GetAsync(Caller caller, string name, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, name, write: false, ct);
        var streams = await db.ImageStreams.CountAsync(s => s.NamespaceId == ns.Id, ct);
        return new NamespaceSummary(ns.Name, ns.CreatedAt, streams, await db.RoleAsync(caller, ns.Id, ct), ns.AnonymousPull, ns.Shared);
    }

    /// <summary>The caller's role in the namespace (admins are editors), or <c>null</c> when they may not read it.</summary>
    public async Task<NamespaceRole?> RoleAsync(Caller caller, string name, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.Namespaces.AsNoTracking().FirstOrDefaultAsync(n => n.Name == name, ct);
        return ns is null ? null : await db.RoleAsync(caller, ns.Id, ct);
    }

    public async Task<NamespaceSummary> CreateAsync(Caller caller, string? name, CancellationToken ct = default)
    {
        caller.RequireAdmin("create namespaces");
        name = name?.Trim();
        if (NamespaceName.Validate(name) is { } problem)
        {
            throw new ValidationFailedException("name", problem);
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        if (await db.Namespaces.AnyAsync(n => n.Name == name, ct))
        {
            throw new ConflictException("name", $"Namespace '{name}' already exists.");
        }

        var ns = new Namespace(name!, clock.GetUtcNow().UtcDateTime);
        db.Namespaces.Add(ns);
        AuditTrail.Record(db, clock, caller, "created", "Namespace", ns.Name, ns.Name, "namespace created");
        await db.SaveUniqueAsync("name", $"Namespace '{name}' already exists.", ct);
        return new NamespaceSummary(ns.Name, ns.CreatedAt, 0, NamespaceRole.Editor);
    }

    /// <summary>Lets anyone pull the namespace's images through the dashboard's registry without logging in, or stops it (admins).</summary>
    public Task<NamespaceSummary> SetAnonymousPullAsync(Caller caller, string name, bool allowed, CancellationToken ct = default) =>
        SwitchAsync(caller, name, "allow anonymous pulls", ns => ns.AnonymousPull, (ns, on) => ns.AnonymousPull = on, allowed,
            allowed ? "anonymous pulls allowed" : "anonymous pulls stopped", ct);

    /// <summary>
    /// Makes the namespace's streams resolve image references for the whole cluster (admission pins, policy facts), or
    /// stops it (admins): what its Editors import then decides digests for every namespace.
    /// </summary>
    public Task<NamespaceSummary> SetSharedAsync(Caller caller, string name, bool shared, CancellationToken ct = default) =>
        SwitchAsync(caller, name, "share a namespace with the cluster", ns => ns.Shared, (ns, on) => ns.Shared = on, shared,
            shared ? "shared with the cluster: its streams resolve images for every namespace" : "no longer shared with the cluster", ct);

    /// <summary>An admin's on/off setting of a namespace, audited when it changes; both decide what image facts say, so they are read again.</summary>
    private async Task<NamespaceSummary> SwitchAsync(Caller caller, string name, string what, Func<Namespace, bool> get, Action<Namespace, bool> set,
        bool value, string audited, CancellationToken ct)
    {
        caller.RequireAdmin(what);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, name, write: true, ct);
        if (get(ns) != value)
        {
            set(ns, value);
            AuditTrail.Record(db, clock, caller, "changed", "Namespace", ns.Name, ns.Name, audited);
            await db.SaveChangesAsync(ct);
            facts.Forget();
        }

        var streams = await db.ImageStreams.CountAsync(s => s.NamespaceId == ns.Id, ct);
        return new NamespaceSummary(ns.Name, ns.CreatedAt, streams, NamespaceRole.Editor, ns.AnonymousPull, ns.Shared);
    }

    /// <summary>Deletes the namespace with all its image streams and memberships.</summary>
    public async Task DeleteAsync(Caller caller, string name, CancellationToken ct = default)
    {
        caller.RequireAdmin("delete namespaces");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.Namespaces.FirstOrDefaultAsync(n => n.Name == name, ct)
            ?? throw new NotFoundException($"Namespace '{name}' does not exist.");
        var streams = await db.ImageStreams.CountAsync(s => s.NamespaceId == ns.Id, ct);
        db.Namespaces.Remove(ns);
        AuditTrail.Record(db, clock, caller, "deleted", "Namespace", ns.Name, ns.Name, $"namespace deleted with {streams} image stream(s)");
        await db.SaveChangesAsync(ct);
    }

    public async Task<IReadOnlyList<NamespaceMember>> MembersAsync(Caller caller, string name, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, name, write: false, ct);
        return await db.Memberships.Where(m => m.NamespaceId == ns.Id)
            .Join(db.Users, m => m.UserId, u => u.Id, (m, u) => new { u.UserName, m.Role })
            .OrderBy(m => m.UserName)
            .Select(m => new NamespaceMember(m.UserName!, m.Role))
            .ToListAsync(ct);
    }

    public async Task SetMemberAsync(Caller caller, string name, string userName, NamespaceRole role, CancellationToken ct = default)
    {
        caller.RequireAdmin("manage namespace members");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, name, write: true, ct);
        var user = await FindUserAsync(db, userName, ct);
        var membership = await db.Memberships.FirstOrDefaultAsync(m => m.NamespaceId == ns.Id && m.UserId == user.Id, ct);
        var before = membership?.Role.ToString() ?? "none";
        if (membership is null)
        {
            db.Memberships.Add(new NamespaceMembership(ns.Id, user.Id, role));
        }
        else
        {
            membership.Role = role;
        }

        AuditTrail.Record(db, clock, caller, "changed", "Membership", ns.Name, user.UserName!, $"{before} → {role}");
        await db.SaveUniqueAsync("userName", $"'{userName}' was added to namespace '{name}' by someone else at the same time; reload.", ct);
    }

    public async Task RemoveMemberAsync(Caller caller, string name, string userName, CancellationToken ct = default)
    {
        caller.RequireAdmin("manage namespace members");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, name, write: true, ct);
        var user = await FindUserAsync(db, userName, ct);
        var membership = await db.Memberships.FirstOrDefaultAsync(m => m.NamespaceId == ns.Id && m.UserId == user.Id, ct)
            ?? throw new NotFoundException($"'{userName}' is not a member of namespace '{name}'.");
        db.Memberships.Remove(membership);
        AuditTrail.Record(db, clock, caller, "deleted", "Membership", ns.Name, user.UserName!, $"{membership.Role} → none");
        await db.SaveChangesAsync(ct);
    }

    private static async Task<DashboardUser> FindUserAsync(DashboardDbContext db, string userName, CancellationToken ct)
    {
        var normalized = userName.Trim().ToUpperInvariant();
        return await db.Users.FirstOrDefaultAsync(u => u.NormalizedUserName == normalized, ct)
            ?? throw new NotFoundException($"User '{userName}' does not exist.");
    }
}
