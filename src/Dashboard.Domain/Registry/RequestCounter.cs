namespace Dashboard.Domain.Registry;

/// <summary>Counts every request the registry client puts on the wire: probes, tokens, redirect hops and retries included.</summary>
public sealed class RegistryTraffic
{
    private long _requests;

    public long Requests => Interlocked.Read(ref _requests);

    internal void Count() => Interlocked.Increment(ref _requests);
}

/// <summary>The innermost handler: one count per request sent.</summary>
public sealed class RequestCounter(RegistryTraffic traffic) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        traffic.Count();
        return base.SendAsync(request, ct);
    }
}
