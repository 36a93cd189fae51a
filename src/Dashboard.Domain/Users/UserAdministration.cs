using System.Security.Cryptography;
using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Domain.Users;

public sealed record UserRow(string UserName, bool IsAdmin, bool Disabled, bool LockedOut, DateTime CreatedAt,
    IReadOnlyList<(string Namespace, NamespaceRole Role)> Memberships);

/// <summary>A change to a user; <c>null</c> fields stay as they are.</summary>
public sealed record UserChange(string? Password = null, bool? Admin = null, bool? Disabled = null);

/// <summary>
/// Users and their global rights (admins only). Each call runs in a scope of its own, so a long-lived page
/// never reads through a stale <see cref="UserManager{TUser}"/>.
/// </summary>
public sealed class UserAdministration(IServiceScopeFactory scopes, TimeProvider clock)
{
    public async Task<IReadOnlyList<UserRow>> ListAsync(Caller caller, CancellationToken ct = default)
    {
        caller.RequireAdmin("list users");
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DashboardDbContext>();
        var adminIds = await AdminIds(db).ToListAsync(ct);
        var users = await db.Users.AsNoTracking().OrderBy(u => u.UserName).ToListAsync(ct);
        var memberships = await db.Memberships.AsNoTracking()
            .Select(m => new { m.UserId, m.Namespace.Name, m.Role }).ToListAsync(ct);
        var now = clock.GetUtcNow();
        return [.. users.Select(u => new UserRow(u.UserName!, adminIds.Contains(u.Id), u.Disabled, u.LockoutEnd > now, u.CreatedAt,
            [.. memberships.Where(m => m.UserId == u.Id).OrderBy(m => m.Name).Select(m => (m.Name, m.Role))]))];
    }

    public async Task CreateAsync(Caller caller, string? userName, string? password, bool admin, CancellationToken ct = default)
    {
        caller.RequireAdmin("create users");
        userName = userName?.Trim();
        if (string.IsNullOrEmpty(userName) || userName.Length > DashboardUser.MaxUserNameLength)
        {
            throw new ValidationFailedException("userName", $"A user name has 1 to {DashboardUser.MaxUserNameLength} characters.");
        }

        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<DashboardUser>>();
        var db = scope.ServiceProvider.GetRequiredService<DashboardDbContext>();
        if (await users.FindByNameAsync(userName) is not null)
        {
            throw new ConflictException("userName", $"User '{userName}' already exists.");
        }

        var user = new DashboardUser { UserName = userName, CreatedAt = clock.GetUtcNow().UtcDateTime, LockoutEnabled = true };
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        Check(await users.CreateAsync(user, password ?? ""), "password");
        if (admin)
        {
            Check(await users.AddToRoleAsync(user, DashboardUser.AdminRole), "admin");
        }

        AuditTrail.Record(db, clock, caller, "created", "User", null, userName, admin ? "admin" : "user");
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>Applies the whole change or none of it.</summary>
    public async Task UpdateAsync(Caller caller, string userName, UserChange change, CancellationToken ct = default)
    {
        caller.RequireAdmin("change users");
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<DashboardUser>>();
        var db = scope.ServiceProvider.GetRequiredService<DashboardDbContext>();
        var user = await users.FindByNameAsync(userName) ?? throw new NotFoundException($"User '{userName}' does not exist.");
        var self = user.Id == caller.UserId;
        if (self && change.Disabled == true)
        {
            throw new ValidationFailedException("disabled", "You cannot disable your own account.");
        }

        if (self && change.Admin == false)
        {
            throw new ValidationFailedException("admin", "You cannot take away your own admin role; ask another admin.");
        }

        var summary = new List<string>();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (change.Password is not null)
        {
            foreach (var validator in users.PasswordValidators)
            {
                Check(await validator.ValidateAsync(users, user, change.Password), "password");
            }

            Check(await users.RemovePasswordAsync(user), "password");
            Check(await users.AddPasswordAsync(user, change.Password), "password");
            await users.SetLockoutEndDateAsync(user, null);
            await users.ResetAccessFailedCountAsync(user);
            summary.Add("password set");
        }

        if (change.Admin is { } admin && admin != await users.IsInRoleAsync(user, DashboardUser.AdminRole))
        {
            Check(admin ? await users.AddToRoleAsync(user, DashboardUser.AdminRole) : await users.RemoveFromRoleAsync(user, DashboardUser.AdminRole), "admin");
            summary.Add(admin ? "admin granted" : "admin removed");
        }

        if (change.Disabled is { } disabled && disabled != user.Disabled)
        {
            user.Disabled = disabled;
            Check(await users.UpdateAsync(user), "disabled");
            summary.Add(disabled ? "disabled" : "enabled");
        }

        if (summary.Count > 0)
        {
            // A new security stamp ends the user's open sessions at their next check (a minute at most).
            Check(await users.UpdateSecurityStampAsync(user), "");
            AuditTrail.Record(db, clock, caller, "changed", "User", null, user.UserName!, string.Join(", ", summary));
            await db.SaveChangesAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// Makes sure the first admin exists. When no password is configured a strong one is generated and returned,
    /// so the host can show it once; an existing account is never changed.
    /// </summary>
    public async Task<string?> EnsureAdminAsync(string userName, string? configuredPassword, CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<DashboardUser>>();
        if (!await roles.RoleExistsAsync(DashboardUser.AdminRole))
        {
            Check(await roles.CreateAsync(new IdentityRole(DashboardUser.AdminRole)), "role");
        }

        if (await users.FindByNameAsync(userName) is not null)
        {
            return null;
        }

        var generated = string.IsNullOrEmpty(configuredPassword) ? GeneratePassword() : null;
        var user = new DashboardUser { UserName = userName, CreatedAt = clock.GetUtcNow().UtcDateTime, LockoutEnabled = true };
        // One transaction: an account without its Admin role would be skipped by every later start, leaving no admin.
        var db = scope.ServiceProvider.GetRequiredService<DashboardDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        Check(await users.CreateAsync(user, generated ?? configuredPassword!), "Dashboard:Bootstrap:AdminPassword");
        Check(await users.AddToRoleAsync(user, DashboardUser.AdminRole), "role");
        await transaction.CommitAsync(ct);
        return generated;
    }

    private static IQueryable<string> AdminIds(DashboardDbContext db) =>
        db.UserRoles.Join(db.Roles.Where(r => r.Name == DashboardUser.AdminRole), ur => ur.RoleId, r => r.Id, (ur, _) => ur.UserId);

    /// <summary>24 characters from every class the password rules ask for: about 140 bits.</summary>
    private static string GeneratePassword()
    {
        const string lower = "abcdefghijkmnopqrstuvwxyz", upper = "ABCDEFGHJKLMNPQRSTUVWXYZ", digits = "23456789", symbols = "-_.!@#%+=";
        var all = lower + upper + digits + symbols;
        var chars = Enumerable.Range(0, 20).Select(_ => all[RandomNumberGenerator.GetInt32(all.Length)])
            .Append(lower[RandomNumberGenerator.GetInt32(lower.Length)])
            .Append(upper[RandomNumberGenerator.GetInt32(upper.Length)])
            .Append(digits[RandomNumberGenerator.GetInt32(digits.Length)])
            .Append(symbols[RandomNumberGenerator.GetInt32(symbols.Length)])
            .ToArray();
        RandomNumberGenerator.Shuffle(chars.AsSpan());
        return new string(chars);
    }

    /// <summary>Files each Identity error under the field it is about: user-name errors are not password errors.</summary>
    private static void Check(IdentityResult result, string field)
    {
        if (result.Succeeded)
        {
            return;
        }

        if (result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.DuplicateUserName)))
        {
            throw new ConflictException("userName", string.Join(" ", result.Errors.Select(e => e.Description)));
        }

        var errors = result.Errors
            .GroupBy(e => e.Code.Contains("UserName", StringComparison.Ordinal) ? "userName" : field)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Description).ToArray());
        throw new ValidationFailedException(errors);
    }
}
