namespace Dashboard.Domain.Registry;

/// <summary>Credentials for one registry, from a pull secret entry.</summary>
public sealed record RegistryCredential(string Username, string Password)
{
    /// <summary>Names the credential without revealing it (SHA-256 of user and password): a cache key for answers given to it.</summary>
    /// <remarks>Computed on each read: a stored value would survive a <c>with</c> copy that changed the password.</remarks>
    public string Fingerprint => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
        System.Text.Encoding.UTF8.GetBytes($"{Username}\n{Password}")));

    public override string ToString() => $"{Username}:***";
}

/// <summary>
/// A registry to talk to, how (plain HTTP and unverified TLS allowed only when insecure), and as whom; with
/// <see cref="Mirrors"/>, the places its image calls are asked at first (issue 15).
/// </summary>
public sealed record RegistryTarget(string Registry, bool Insecure = false, RegistryCredential? Credential = null)
{
    /// <summary>The mirrors the route handler tries for this target's repository, and the log of which answered; null: none.</summary>
    public Mirrors.MirrorRoute? Mirrors { get; init; }

    /// <summary>Docker Hub's API lives on another host than its name.</summary>
    public string ApiHost => Registry == Images.ImageReference.DockerHub ? "registry-1.docker.io" : Registry;
}

/// <summary>The last rate-limit headers a registry sent (Docker Hub's <c>RateLimit-Limit: 100;w=21600</c>).</summary>
public sealed record RateLimitState(int? Limit, int? Remaining, DateTime ObservedAt);
