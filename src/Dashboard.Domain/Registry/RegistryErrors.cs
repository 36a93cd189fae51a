namespace Dashboard.Domain.Registry;

/// <summary>Why an import failed, as the tag's ImportSuccess=False condition reason names it.</summary>
public enum RegistryFailure
{
    Unauthorized,
    Forbidden,
    NotFound,
    Unreachable,
    RateLimited,
    InvalidManifest,
}

/// <summary>A registry refused or could not answer; the message says what a person can do about it.</summary>
public sealed class RegistryException(RegistryFailure reason, string message, Exception? inner = null) : Exception(message, inner)
{
    public RegistryFailure Reason { get; } = reason;
}
