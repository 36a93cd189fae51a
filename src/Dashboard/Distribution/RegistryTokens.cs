using System.Security.Claims;
using Microsoft.AspNetCore.DataProtection;

namespace Dashboard.Distribution;

/// <summary>
/// Short-lived tokens of the Docker token flow: which user, and which repositories (<c>namespace/stream</c>) they may
/// pull. Protected with the app's Data Protection keys under a purpose of their own, with an expiry; nothing is stored.
/// </summary>
public sealed class RegistryTokens(IDataProtectionProvider provider, TimeProvider clock)
{
    public const string ScopeClaim = "registry_scope";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector("Dashboard.RegistryTokens.v1").ToTimeLimitedDataProtector();

    public string Issue(string userId, IReadOnlyCollection<string> repositories) =>
        _protector.Protect($"{userId}\n{string.Join(' ', repositories)}", clock.GetUtcNow() + Lifetime);

    /// <summary>The user and repositories of a valid, unexpired token; null for anything else.</summary>
    public (string UserId, IReadOnlyList<string> Repositories)? Read(string token)
    {
        try
        {
            var parts = _protector.Unprotect(token).Split('\n', 2);
            return (parts[0], parts.Length > 1 ? parts[1].Split(' ', StringSplitOptions.RemoveEmptyEntries) : []);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether a request comes from a client that did not log in: no credentials at all, or a token the token endpoint
    /// gave an anonymous client (no user). Wrong credentials are not anonymous: they are refused, never downgraded.
    /// </summary>
    public bool IsAnonymous(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.Length == 0
            || (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && Read(header["Bearer ".Length..].Trim()) is { UserId: "" });
    }

    /// <summary>Whether the principal may pull <paramref name="repository"/>: a registry token must name it; API credentials may pull what their user reads.</summary>
    public static bool Allows(ClaimsPrincipal user, string repository)
    {
        var scopes = user.FindAll(ScopeClaim).Select(c => c.Value).ToList();
        return user.Identity?.IsAuthenticated == true && (scopes.Count == 0 || scopes.Contains(repository));
    }
}
