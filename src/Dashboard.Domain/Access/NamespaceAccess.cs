using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Access;

/// <summary>The one place that decides which namespaces a caller may read and change.</summary>
internal static class NamespaceAccess
{
    /// <summary>
    /// Namespaces the caller may read: all for admins, the ones they are a member of otherwise, and for an anonymous
    /// registry client the ones that allow anonymous pulls.
    /// </summary>
    public static IQueryable<Namespace> Readable(this DashboardDbContext db, Caller caller) =>
        caller.IsAdmin ? db.Namespaces
        : caller.IsAnonymous ? db.Namespaces.Where(n => n.AnonymousPull)
        : db.Namespaces.Where(n => db.Memberships.Any(m => m.NamespaceId == n.Id && m.UserId == caller.UserId));

    /// <summary>The caller's role in a namespace: admins are editors everywhere; <c>null</c> for non-members.</summary>
    public static async Task<NamespaceRole?> RoleAsync(this DashboardDbContext db, Caller caller, int namespaceId, CancellationToken ct)
    {
        if (caller.IsAdmin)
        {
            return NamespaceRole.Editor;
        }

        if (caller.IsAnonymous)
        {
            return await db.Namespaces.AnyAsync(n => n.Id == namespaceId && n.AnonymousPull, ct) ? NamespaceRole.Viewer : null;
        }

        var membership = await db.Memberships.AsNoTracking()
            .FirstOrDefaultAsync(m => m.NamespaceId == namespaceId && m.UserId == caller.UserId, ct);
        return membership?.Role;
    }

    /// <summary>
    /// Finds a namespace the caller may read, or may change when <paramref name="write"/> is set.
    /// A namespace the caller may not read is reported as not found, so its existence is not revealed.
    /// </summary>
    public static async Task<Namespace> RequireNamespaceAsync(this DashboardDbContext db, Caller caller, string name, bool write, CancellationToken ct)
    {
        var ns = await db.Namespaces.FirstOrDefaultAsync(n => n.Name == name, ct);
        var role = ns is null ? null : await db.RoleAsync(caller, ns.Id, ct);
        if (ns is null || role is null)
        {
            throw new NotFoundException($"Namespace '{name}' does not exist.");
        }

        if (write && role != NamespaceRole.Editor)
        {
            throw new ForbiddenException($"You may read namespace '{name}' but not change it: that needs the Editor role.");
        }

        return ns;
    }

    /// <summary>
    /// The user <paramref name="userId"/> as a caller, for work done later on their behalf (a follow of another namespace's
    /// tag); null when the user is gone or disabled, so their access ends with them.
    /// </summary>
    public static async Task<Caller?> CallerOfAsync(this DashboardDbContext db, string? userId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(userId))
        {
            return null;
        }

        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId && !u.Disabled).Select(u => new
            {
                u.Id,
                u.UserName,
                Admin = db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.Name == Users.DashboardUser.AdminRole)),
            })
            .FirstOrDefaultAsync(ct);
        return user is null ? null : new Caller(user.Id, user.UserName ?? "", user.Admin);
    }

    /// <summary>Whether the caller may read the namespace named <paramref name="name"/>; false also when it does not exist.</summary>
    public static Task<bool> CanReadAsync(this DashboardDbContext db, Caller caller, string name, CancellationToken ct) =>
        db.Readable(caller).AnyAsync(n => n.Name == name, ct);

    public static void RequireAdmin(this Caller caller, string what)
    {
        if (!caller.IsAdmin)
        {
            throw new ForbiddenException($"Only administrators may {what}.");
        }
    }
}
