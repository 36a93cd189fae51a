using System.Security.Cryptography;
using System.Text;
using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Users;

public sealed record AccessTokenInfo(Guid Id, string Name, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? LastUsedAt);

/// <summary>A token as created: the only moment its secret is known.</summary>
public sealed record NewAccessToken(Guid Id, string Name, string Token, DateTime? ExpiresAt);

/// <summary>Personal access tokens: made by a user for themselves, shown once, stored as a hash, revocable.</summary>
public sealed class AccessTokenService(IDbContextFactory<DashboardDbContext> contexts, TimeProvider clock)
{
    /// <summary>Tokens start with this, so secret scanners and people can tell what a leaked string is.</summary>
    public const string Prefix = "isd_";

    public async Task<NewAccessToken> CreateAsync(Caller caller, string? name, DateTime? expiresAt, CancellationToken ct = default)
    {
        name = name?.Trim();
        var now = clock.GetUtcNow().UtcDateTime;
        if (string.IsNullOrEmpty(name) || name.Length > PersonalAccessToken.MaxNameLength)
        {
            throw new ValidationFailedException("name", $"A token needs a name of 1 to {PersonalAccessToken.MaxNameLength} characters.");
        }

        if (expiresAt is { } expiry && expiry.ToUniversalTime() <= now)
        {
            throw new ValidationFailedException("expiresAt", "The expiry must be in the future.");
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        if (await db.AccessTokens.AnyAsync(t => t.UserId == caller.UserId && t.Name == name, ct))
        {
            throw new ConflictException("name", $"You already have a token named '{name}'.");
        }

        var secret = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var token = new PersonalAccessToken(caller.UserId, name, Hash(secret), now, expiresAt?.ToUniversalTime());
        db.AccessTokens.Add(token);
        AuditTrail.Record(db, clock, caller, "created", "AccessToken", null, $"{caller.UserName}/{name}",
            expiresAt is null ? "no expiry" : $"expires {token.ExpiresAt:u}");
        await db.SaveUniqueAsync("name", $"You already have a token named '{name}'.", ct);
        return new NewAccessToken(token.Id, token.Name, secret, token.ExpiresAt);
    }

    public async Task<IReadOnlyList<AccessTokenInfo>> ListAsync(Caller caller, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.AccessTokens.AsNoTracking().Where(t => t.UserId == caller.UserId)
            .OrderBy(t => t.Name)
            .Select(t => new AccessTokenInfo(t.Id, t.Name, t.CreatedAt, t.ExpiresAt, t.LastUsedAt))
            .ToListAsync(ct);
    }

    public async Task RevokeAsync(Caller caller, Guid id, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var token = await db.AccessTokens.FirstOrDefaultAsync(t => t.Id == id && t.UserId == caller.UserId, ct)
            ?? throw new NotFoundException("You have no such token.");
        db.AccessTokens.Remove(token);
        AuditTrail.Record(db, clock, caller, "deleted", "AccessToken", null, $"{caller.UserName}/{token.Name}", "token revoked");
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The id of the enabled user owning <paramref name="secret"/>, or <c>null</c> for an unknown, expired or disabled one.</summary>
    public async Task<string?> AuthenticateAsync(string secret, CancellationToken ct = default)
    {
        if (!secret.StartsWith(Prefix, StringComparison.Ordinal) || secret.Length > 100)
        {
            return null;
        }

        var hash = Hash(secret);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var token = await db.AccessTokens.FirstOrDefaultAsync(t => t.Hash == hash, ct);
        if (token is null || token.IsExpired(now) || await db.Users.AnyAsync(u => u.Id == token.UserId && u.Disabled, ct))
        {
            return null;
        }

        // Recording every use would make each API call a write; a minute's precision is enough to spot unused tokens.
        if (token.LastUsedAt is null || now - token.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            token.LastUsedAt = now;
            await db.SaveChangesAsync(ct);
        }

        return token.UserId;
    }

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
