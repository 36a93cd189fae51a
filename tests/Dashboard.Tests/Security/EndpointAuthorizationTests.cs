using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dashboard.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.StaticAssets;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Security;

/// <summary>
/// Walks every endpoint the app maps — API, pages, Hangfire, health, static assets — so an endpoint added later is
/// covered without editing this test: anonymous callers are refused everywhere but the allow-list, and a Viewer can
/// change nothing.
/// </summary>
public sealed class EndpointAuthorizationTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    /// <summary>
    /// The only routes anonymous callers may use, besides static assets (stylesheets, scripts, icons). <c>/metrics</c>
    /// decides by the caller's address (WebhookTests shows a test-server caller refused, the E2E tests a loopback scraper
    /// served); <c>/admission/validate</c> and <c>/admission/mutate</c> are called by a cluster's API server, which has no session, disclose nothing
    /// but decisions, and ask for a bearer token when one is configured.
    /// </summary>
    private static readonly HashSet<string> AnonymousRoutes = ["/account/login", "/healthz", "/metrics", "/admission/validate", "/admission/mutate"];

    /// <summary>
    /// The registry endpoint takes no cookie session (registry clients use the Docker token flow), so its routes carry no
    /// rule of the app's; each answers a registry challenge (401) itself, which the anonymous walk checks.
    /// </summary>
    private static readonly HashSet<string> SelfGuardedRoutes =
        ["/v2", "/v2/token", "/v2/_catalog", "/v2/{ns}/{stream}/manifests/{reference}", "/v2/{ns}/{stream}/blobs/{digest}", "/v2/{ns}/{stream}/tags/list", "/v2/{**rest}"];

    /// <summary>Non-GET routes a Viewer may call: they change only the caller's own session or tokens, or change nothing.</summary>
    private static readonly HashSet<string> OwnAccountRoutes = ["POST /api/v1/tokens/", "DELETE /api/v1/tokens/{id:guid}", "POST /account/logout",
        // A question, not a change: the policy's answer for some images.
        "POST /api/v1/policy/evaluate"];

    public async Task InitializeAsync()
    {
        await app.CreateNamespaceAsync("team-a", "app");
        await app.CreateUserAsync("viewer", "team-a", "Viewer");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>
    /// Each endpoint carries a rule, its own or its group's (the API group requires a signed-in user, the console's pages
    /// do too); this fails for an endpoint mapped outside those groups without one.
    /// </summary>
    [Fact]
    public void Every_endpoint_carries_an_authorization_rule_of_its_own_or_its_groups()
    {
        var unstated = Endpoints()
            .Where(e => e.Metadata.GetMetadata<StaticAssetDescriptor>() is null)
            .Where(e => !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any() && e.Metadata.GetMetadata<IAllowAnonymous>() is null
                && e.Metadata.GetMetadata<AuthorizationPolicy>() is null)
            .Select(Describe)
            // Blazor's circuit hub and the static-file fallback of a build-output run are framework endpoints without
            // metadata of their own; the fallback policy (signed-in users only) covers them, as the anonymous walk proves.
            .Where(d => !d.Contains("/_blazor") && d != "GET,HEAD /{**path:file}")
            .ToList();
        Assert.Empty(unstated);
    }

    [Fact]
    public void Only_sign_in_health_metrics_and_static_assets_allow_anonymous_callers()
    {
        var anonymous = Endpoints()
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null && e.Metadata.GetMetadata<StaticAssetDescriptor>() is null)
            .Select(e => "/" + e.RoutePattern.RawText!.Trim('/'))
            .ToHashSet();
        Assert.Equal(AnonymousRoutes.Concat(SelfGuardedRoutes).Order(), anonymous.Order());
    }

    [Fact]
    public async Task Anonymous_requests_are_refused_everywhere_but_the_allow_list()
    {
        using var client = app.Anonymous();
        var admitted = new List<string>();
        var checkedCount = 0;
        foreach (var (method, url, endpoint) in Requests())
        {
            if (endpoint.Metadata.GetMetadata<StaticAssetDescriptor>() is not null || AnonymousRoutes.Contains("/" + endpoint.RoutePattern.RawText!.Trim('/')))
            {
                continue;
            }

            using var response = await client.SendAsync(Request(method, url));
            checkedCount++;
            var refused = response.StatusCode == HttpStatusCode.Unauthorized
                || (response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.OriginalString.Contains("/account/login") == true);
            if (!refused)
            {
                admitted.Add($"{method} {url} → {(int)response.StatusCode}");
            }
        }

        Assert.True(checkedCount > 30, $"only {checkedCount} endpoints were found: is the endpoint walk broken?");
        Assert.Empty(admitted);
    }

    [Fact]
    public async Task The_allow_list_really_answers_anonymous_callers()
    {
        using var client = app.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/login")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/app.css")).StatusCode);
    }

    [Fact]
    public async Task A_viewer_can_change_nothing()
    {
        using var viewer = app.As("viewer", DashboardFactory.UserPassword);
        var changed = new List<string>();
        var checkedCount = 0;
        foreach (var (method, url, endpoint) in Requests())
        {
            // Pages and Blazor's circuit transport change nothing by themselves: what a page does goes through the same
            // domain services, and the component tests show a Viewer no edit controls. Health changes nothing either.
            if (method is "GET" or "HEAD" || endpoint.Metadata.GetMetadata<ComponentTypeMetadata>() is not null
                || endpoint.RoutePattern.RawText!.TrimStart('/').StartsWith("_blazor", StringComparison.Ordinal)
                || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null
                || OwnAccountRoutes.Contains($"{method} /{endpoint.RoutePattern.RawText!.TrimStart('/')}"))
            {
                continue;
            }

            using var response = await viewer.SendAsync(Request(method, url));
            checkedCount++;
            if (response.StatusCode != HttpStatusCode.Forbidden)
            {
                changed.Add($"{method} {url} → {(int)response.StatusCode}");
            }
        }

        Assert.True(checkedCount > 10, $"only {checkedCount} changing endpoints were found: is the endpoint walk broken?");
        Assert.Empty(changed);

        using var admin = app.AsAdmin();
        var stream = await admin.GetAsync("/api/v1/namespaces/team-a/imagestreams/app");
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
    }

    private IEnumerable<RouteEndpoint> Endpoints() =>
        app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();

    /// <summary>An endpoint that names no methods (Hangfire's dashboard) answers any: it is tried with GET and POST.</summary>
    private IEnumerable<(string Method, string Url, RouteEndpoint Endpoint)> Requests() =>
        Endpoints().SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET", "POST"]).Select(m => (m, Url(e.RoutePattern), e)));

    /// <summary>A concrete URL for a route, with values that exist where that matters (the viewer's namespace and stream).</summary>
    private static string Url(RoutePattern pattern)
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
                "eventid" => "1",
                "username" => "viewer",
                "documentname" => "v1",
                _ => "x",
            },
            _ => "",
        })));
        return "/" + string.Join("/", segments);
    }

    private static HttpRequestMessage Request(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PUT" or "PATCH")
        {
            // A body that would be valid for most endpoints, so a refusal is about who asks, not what they sent.
            request.Content = new StringContent("""{"name":"x","role":"Editor","from":"quay.io/a/b:1","password":"Xx-Passw0rd!xx"}""",
                Encoding.UTF8, "application/json");
        }

        return request;
    }

    private static string Describe(RouteEndpoint e) =>
        $"{string.Join(",", e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])} /{e.RoutePattern.RawText?.TrimStart('/')}";
}
