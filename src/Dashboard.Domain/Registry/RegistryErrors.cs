using Microsoft.Extensions.Logging;
using Polly.Timeout;

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

    /// <summary>A failure to reach a host, not an answer from it: no connection, a broken one, or no answer in time (not the caller's cancellation).</summary>
    public static bool IsTransient(Exception e, CancellationToken ct) =>
        e is HttpRequestException or TimeoutRejectedException || (e is OperationCanceledException && !ct.IsCancellationRequested);

    /// <summary>What a person reads when <paramref name="host"/> could not be reached; a connection the outbound guard refused is Forbidden.</summary>
    public static RegistryException Unreachable(string host, Exception e, int timeoutSeconds, ILogger logger)
    {
        if (e is HttpRequestException { InnerException: OutboundRefusedException refused })
        {
            return new RegistryException(RegistryFailure.Forbidden, $"{host} is not reachable from the dashboard: {refused.Message}");
        }

        logger.LogWarning("Registry {Registry} unreachable: {Error}", host, e.Message);
        var reason = e is TimeoutRejectedException or OperationCanceledException ? $"did not answer within {timeoutSeconds} s" : e.Message;
        return new RegistryException(RegistryFailure.Unreachable, $"{host} is unreachable: {reason}", e);
    }
}
