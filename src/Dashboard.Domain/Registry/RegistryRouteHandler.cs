using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Registry;

/// <summary>
/// Where a call goes: the outermost step, so everything after it (pauses, credentials, bounds, retries) is per the host it
/// chose. Today that is the target's API host over HTTPS; an insecure source tries HTTPS without certificate checks,
/// then plain HTTP, and the answer is remembered per host. Registry mirrors (issue 15) choose among hosts here.
/// </summary>
public sealed class RegistryRouteHandler(RegistrySchemes schemes, IOptions<RegistryOptions> options, ILogger<RegistryRouteHandler> logger)
    : RegistryCallHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, RegistryTarget target, RegistryCall call, CancellationToken ct)
    {
        // Mirrors (issue 15) choose the target to ask here and set it on the request (ForCall): the handlers below read it.
        var scheme = target.Insecure ? schemes.KnownFor(target.ApiHost) ?? await ProbeAsync(target, ct) : Uri.UriSchemeHttps;
        request.RequestUri = new Uri($"{scheme}://{target.ApiHost}{request.RequestUri!.PathAndQuery}");
        return await SendOnAsync(request, ct);
    }

    /// <summary>Any answer to <c>GET https://host/v2/</c> means HTTPS works; a failed connection or handshake means plain HTTP.</summary>
    private async Task<string> ProbeAsync(RegistryTarget target, CancellationToken ct)
    {
        using var probe = new HttpRequestMessage(HttpMethod.Get, $"https://{target.ApiHost}/v2/").ForTarget(target);
        string scheme;
        try
        {
            using var _ = await SendOnAsync(probe, ct);
            scheme = Uri.UriSchemeHttps;
        }
        catch (HttpRequestException e) when (e.InnerException is OutboundRefusedException)
        {
            throw RegistryException.Unreachable(target.Registry, e, options.Value.RequestTimeoutSeconds, logger);
        }
        catch (Exception e) when (RegistryException.IsTransient(e, ct))
        {
            scheme = Uri.UriSchemeHttp;
        }

        return schemes.Remember(target.ApiHost, scheme);
    }
}

/// <summary>The scheme each insecure host answered on, for the life of the process.</summary>
public sealed class RegistrySchemes
{
    private readonly ConcurrentDictionary<string, string> _known = new(StringComparer.OrdinalIgnoreCase);

    public string? KnownFor(string host) => _known.GetValueOrDefault(host);

    public string Remember(string host, string scheme) => _known.GetOrAdd(host, scheme);
}
