namespace Dashboard.Domain.Registry;

/// <summary>Credentials for one registry, from a pull secret entry.</summary>
public sealed record RegistryCredential(string Username, string Password)
{
    public override string ToString() => $"{Username}:***";
}

/// <summary>A registry to talk to, how (plain HTTP and unverified TLS allowed only when insecure), and as whom.</summary>
public sealed record RegistryTarget(string Registry, bool Insecure = false, RegistryCredential? Credential = null)
{
    /// <summary>Docker Hub's API lives on another host than its name.</summary>
    public string ApiHost => Registry == Images.ImageReference.DockerHub ? "registry-1.docker.io" : Registry;
}

/// <summary>The last rate-limit headers a registry sent (Docker Hub's <c>RateLimit-Limit: 100;w=21600</c>).</summary>
public sealed record RateLimitState(int? Limit, int? Remaining, DateTime ObservedAt);
