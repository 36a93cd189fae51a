namespace Dashboard.Domain.Registry;

/// <summary>
/// Follows redirects by hand (the primary handler follows none): a redirect to another host (blob storage, a CDN) goes
/// without the <c>Authorization</c> header, and only an insecure source may be sent to plain HTTP.
/// </summary>
public sealed class RedirectHandler : RegistryCallHandler
{
    private const int MaxRedirects = 5;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, RegistryTarget target, RegistryCall call, CancellationToken ct)
    {
        var origin = request.RequestUri!;
        var hop = request;
        for (var hops = 0; ; hops++)
        {
            var response = await SendOnAsync(hop, ct);
            if ((int)response.StatusCode is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is not { } location || hops >= MaxRedirects)
            {
                return response;
            }

            var next = location.IsAbsoluteUri ? location : new Uri(hop.RequestUri!, location);
            var sameHost = next.Authority.Equals(origin.Authority, StringComparison.OrdinalIgnoreCase);
            if (call.KeepOffload && !sameHost)
            {
                // Content offload: the caller hands the redirect to its own client.
                return response;
            }

            response.Dispose();
            if (next.Scheme != Uri.UriSchemeHttps && !target.Insecure)
            {
                throw new RegistryException(RegistryFailure.Forbidden, $"{target.Registry} redirected to a plain HTTP address; only insecure sources may use HTTP.");
            }

            hop = Hop(request, next, sameHost, target);
        }
    }

    private static HttpRequestMessage Hop(HttpRequestMessage original, Uri uri, bool sameHost, RegistryTarget target)
    {
        var hop = new HttpRequestMessage(original.Method, uri).ForTarget(target);
        foreach (var header in original.Headers.Where(h => sameHost || !h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase)))
        {
            hop.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return hop;
    }
}
