using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.StaticAssets;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Infrastructure;

/// <summary>Every endpoint the app maps, as concrete requests, so a route added later is walked without editing a test.</summary>
public static class EndpointWalk
{
    public static IEnumerable<RouteEndpoint> Endpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();

    /// <summary>Each route with each of its methods; one that names none (Hangfire's dashboard) answers any, and is tried with GET and POST.</summary>
    public static IEnumerable<(string Method, string Url, RouteEndpoint Endpoint)> Requests(IServiceProvider services) =>
        Endpoints(services).Where(e => e.Metadata.GetMetadata<StaticAssetDescriptor>() is null)
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET", "POST"]).Select(m => (m, Url(e.RoutePattern), e)));

    /// <summary><c>GET /api/v1/namespaces/{ns}</c>: how a route is named in tables.</summary>
    public static string Route(string method, RouteEndpoint endpoint) => $"{method} /{endpoint.RoutePattern.RawText!.Trim('/')}";

    /// <summary>
    /// A concrete URL for a route: namespace <c>team-a</c>, stream <c>app</c>, tag <c>latest</c>, user <c>target</c> (a user
    /// the walk may change), values that do not exist elsewhere.
    /// </summary>
    public static string Url(RoutePattern pattern)
    {
        var segments = pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter => parameter.Name.ToLowerInvariant() switch
            {
                "ns" or "namespace" => "team-a",
                "name" or "stream" => "app",
                "tag" => "latest",
                "digest" => "sha256:" + new string('a', 64),
                "id" => Guid.NewGuid().ToString(),
                "eventid" or "importid" => "1",
                "username" => "target",
                "documentname" => "v1",
                _ => "x",
            },
            _ => "",
        })));
        return "/" + string.Join("/", segments);
    }

    /// <summary>
    /// The request for a method and URL: a body that would be valid for most endpoints, so a refusal is about who asks,
    /// not what they sent. Its source follows a tag of the same stream and a repository import asks for no tags, so
    /// nothing reaches out to the network.
    /// </summary>
    public static HttpRequestMessage Request(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("""{"name":"x","role":"Editor","from":"app:base","maxTags":0,"password":"Xx-Passw0rd!xx"}""",
                Encoding.UTF8, "application/json");
        }

        return request;
    }
}
