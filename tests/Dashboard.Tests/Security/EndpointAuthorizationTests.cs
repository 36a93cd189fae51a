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
/// Every endpoint the app maps — API, pages, Hangfire, health, static assets — states a rule, and only the allow-list is
/// open to anonymous callers; what each kind of caller really gets from each route is <see cref="AuthorizationMatrixTests"/>.
/// </summary>
public sealed class EndpointAuthorizationTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    /// <summary>
    /// The only routes anonymous callers may use, besides static assets (stylesheets, scripts, icons). <c>/metrics</c>
    /// decides by the caller's address (WebhookTests shows a test-server caller refused, the E2E tests a loopback scraper
    /// served); <c>/admission/validate</c> and <c>/admission/mutate</c> are called by a cluster's API server, which has no session, disclose nothing
    /// but decisions, and ask for a bearer token when one is configured.
    /// </summary>
    private static readonly HashSet<string> AnonymousRoutes = ["/account/login", "/healthz", "/healthz/live", "/healthz/ready", "/metrics", "/admission/validate", "/admission/mutate"];

    /// <summary>
    /// The registry endpoint takes no cookie session (registry clients use the Docker token flow), so its routes carry no
    /// rule of the app's; each answers a registry challenge (401) itself, which the anonymous walk checks.
    /// </summary>
    private static readonly HashSet<string> SelfGuardedRoutes =
        ["/v2", "/v2/token", "/v2/_catalog", "/v2/{ns}/{stream}/manifests/{reference}", "/v2/{ns}/{stream}/blobs/{digest}", "/v2/{ns}/{stream}/tags/list", "/v2/{ns}/{stream}/referrers/{digest}", "/v2/{**rest}"];

    public Task InitializeAsync() => Task.CompletedTask;

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
    public async Task The_allow_list_really_answers_anonymous_callers()
    {
        using var client = app.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/login")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/app.css")).StatusCode);
    }

    private IEnumerable<RouteEndpoint> Endpoints() => EndpointWalk.Endpoints(app.Services);

    private static string Describe(RouteEndpoint e) =>
        $"{string.Join(",", e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])} /{e.RoutePattern.RawText?.TrimStart('/')}";
}
