using System.Collections.Concurrent;
using System.Net;
using Dashboard.Domain.Registry.Mirrors;
using Dashboard.Domain.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Registry;

/// <summary>
/// Where a call goes: the outermost step, so everything after it (pauses, credentials, bounds, retries) is per the host it
/// chose. A call of an image whose target has mirrors (issue 15) is asked at each place of its route in order — host and
/// repository rewritten, the mirror's own credential and settings — and a place that answers 404, fails otherwise or
/// cannot be reached is skipped for the next (docs/decisions/0016-registry-mirrors.md). At each host: HTTPS, or for an
/// insecure one HTTPS without certificate checks, then plain HTTP, the answer remembered per host.
/// </summary>
public sealed class RegistryRouteHandler(RegistrySchemes schemes, RegistryPauses pauses, IOptions<RegistryOptions> options, ILogger<RegistryRouteHandler> logger)
    : RegistryCallHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, RegistryTarget target, RegistryCall call, CancellationToken ct) =>
        target.Mirrors is { } route && call.Mirror is { } lookup && lookup.Repository == route.Repository
        && route.PlacesFor(lookup.ByDigest) is var places && places.Any(p => p.Place.IsMirror)
            ? SendMirroredAsync(request, target, call, lookup, route, places, ct)
            : SendToAsync(request, target, ct);

    private async Task<HttpResponseMessage> SendMirroredAsync(HttpRequestMessage request, RegistryTarget target, RegistryCall call, MirrorLookup lookup,
        MirrorRoute route, IReadOnlyList<RoutePlace> places, CancellationToken ct)
    {
        var rest = request.RequestUri!.PathAndQuery[$"/v2/{lookup.Repository}".Length..];
        var tried = new List<string>();
        for (var i = 0; i < places.Count; i++)
        {
            var (place, credential) = places[i];
            var last = i == places.Count - 1;
            if (place.IsMirror && !last && pauses.PausedUntil(place.Registry) is { } until)
            {
                tried.Add($"{place} (paused until {until:HH:mm:ss} UTC)");
                continue;
            }

            var at = place.IsMirror ? new RegistryTarget(place.Registry, place.Insecure, credential) : target with { Mirrors = null };
            request.ForCall(at, call with { Scope = $"repository:{place.Repository}:pull", Mirror = null });
            request.RequestUri = new Uri($"https://{at.ApiHost}/v2/{place.Repository}{rest}");
            HttpResponseMessage response;
            try
            {
                response = await SendToAsync(request, at, ct);
            }
            catch (Exception e) when (e is RegistryException || RegistryException.IsTransient(e, ct))
            {
                tried.Add($"{place} ({Outcome(e)})");
                logger.LogInformation("{Place} did not serve {What}: {Error}", place, lookup.What, e.Message);
                if (last)
                {
                    // The last place's own words stay: they say what to do about it ("add a pull secret for it").
                    var message = NoPlaceServed(lookup.What, string.Join(", ", tried));
                    throw e is RegistryException said
                        ? new RegistryException(said.Reason, $"{message} {said.Message}", e)
                        : new RegistryException(Reason(e), message, e);
                }

                continue;
            }

            if (response.IsSuccessStatusCode || (int)response.StatusCode is >= 300 and < 400)
            {
                if (place.IsMirror)
                {
                    route.Answered(place);
                }

                return response;
            }

            tried.Add($"{place} ({Outcome(response.StatusCode)})");
            if (last)
            {
                // The last answer goes back as it is (a 404 still means "not there" to pull-through), with every place tried.
                request.SetTried(string.Join(", ", tried));
                response.RequestMessage = request;
                return response;
            }

            logger.LogInformation("{Place} did not serve {What}: {Status}", place, lookup.What, (int)response.StatusCode);
            response.Dispose();
        }

        throw new System.Diagnostics.UnreachableException("The last place, never skipped, either answers or throws.");
    }

    /// <summary>What a person reads when no place served a mirrored call: every place tried and what each did.</summary>
    internal static string NoPlaceServed(string what, string tried) => $"No mirror or source served {what}: tried {tried}.";

    private static string Outcome(HttpStatusCode status) => status switch
    {
        HttpStatusCode.NotFound => "not found",
        HttpStatusCode.Unauthorized => "refused the credentials, 401",
        HttpStatusCode.Forbidden => "forbidden, 403",
        HttpStatusCode.TooManyRequests => "rate-limited, 429",
        _ => $"answered {(int)status}",
    };

    private static string Outcome(Exception e) => e switch
    {
        RegistryException { Reason: RegistryFailure.Unauthorized } => "needs a login",
        RegistryException { Reason: RegistryFailure.Forbidden } or HttpRequestException { InnerException: OutboundRefusedException } => "not reachable from the dashboard",
        _ => "unreachable",
    };

    private static RegistryFailure Reason(Exception e) =>
        e is HttpRequestException { InnerException: OutboundRefusedException } ? RegistryFailure.Forbidden : RegistryFailure.Unreachable;

    /// <summary>Sends to <paramref name="target"/>'s API host on the scheme it answers on.</summary>
    private async Task<HttpResponseMessage> SendToAsync(HttpRequestMessage request, RegistryTarget target, CancellationToken ct)
    {
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
