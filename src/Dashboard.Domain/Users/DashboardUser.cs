using Microsoft.AspNetCore.Identity;

namespace Dashboard.Domain.Users;

/// <summary>A person (or robot) who signs in to the console, the API or the registry endpoint.</summary>
public sealed class DashboardUser : IdentityUser
{
    public const int MaxUserNameLength = 64;

    public const string AdminRole = "Admin";

    /// <summary>A disabled user cannot sign in, and their open sessions and tokens stop working.</summary>
    public bool Disabled { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>A named secret a user makes for scripts and registry clients; only its SHA-256 hash is stored.</summary>
public sealed class PersonalAccessToken
{
    public const int MaxNameLength = 100;

    private PersonalAccessToken()
    {
        UserId = "";
        Name = "";
        Hash = "";
    }

    public PersonalAccessToken(string userId, string name, string hash, DateTime createdAt, DateTime? expiresAt)
    {
        Id = Guid.NewGuid();
        UserId = userId;
        Name = name;
        Hash = hash;
        CreatedAt = createdAt;
        ExpiresAt = expiresAt;
    }

    public Guid Id { get; private set; }

    public string UserId { get; private set; }

    public string Name { get; private set; }

    /// <summary>Hex SHA-256 of the token; tokens carry 256 random bits, so a plain hash cannot be reversed.</summary>
    public string Hash { get; private set; }

    public DateTime CreatedAt { get; private set; }

    public DateTime? ExpiresAt { get; private set; }

    public DateTime? LastUsedAt { get; set; }

    public bool IsExpired(DateTime now) => ExpiresAt is { } expiry && expiry <= now;
}
