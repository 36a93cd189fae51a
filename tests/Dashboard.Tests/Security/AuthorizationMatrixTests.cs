using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;

namespace Dashboard.Tests.Security;

/// <summary>
/// Every route the app maps × every kind of caller → what the caller must get (docs/security.md). A route that is not in
/// <see cref="Rules"/> fails the test, so a new endpoint cannot ship without a decision; a rule whose route is gone fails
/// too. Every change a caller is allowed to make really happens, so the namespace, users and memberships are put back
/// after each one.
/// </summary>
public sealed class AuthorizationMatrixTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    public enum Who
    {
        Anonymous,

        /// <summary>An admin's session cookie, without an antiforgery token or <c>X-Requested-With</c>: what a forged cross-site request carries.</summary>
        CookieWithoutAntiforgery,

        /// <summary>An admin's personal access token as <c>Bearer</c>.</summary>
        PersonalAccessToken,

        /// <summary>A registry pull token of the admin's for <c>team-a/app</c>.</summary>
        RegistryToken,

        /// <summary>The admission endpoints' bearer token.</summary>
        AdmissionToken,

        Viewer,
        EditorOfAnotherNamespace,
        Editor,
        Admin,
    }

    /// <summary>What a caller gets: served (whatever the answer, a refusal it is not), or refused in one of these ways.</summary>
    public enum Outcome
    {
        Served,

        /// <summary>401, or the redirect to the sign-in page.</summary>
        Unauthenticated,

        Forbidden,

        /// <summary>404 saying namespace team-a does not exist: the caller may not know it does.</summary>
        Hidden,

        /// <summary>400: a change with a session cookie that does not prove it comes from the dashboard's own pages.</summary>
        CrossSiteRefused,
    }

    private const Outcome S = Outcome.Served, U = Outcome.Unauthenticated, F = Outcome.Forbidden, H = Outcome.Hidden, X = Outcome.CrossSiteRefused;

    // Columns: anonymous, cookie without antiforgery, PAT, registry token, admission token, Viewer, Editor of another namespace, Editor, Admin.
    private static readonly Outcome[] Public = [S, S, S, S, S, S, S, S, S];
    private static readonly Outcome[] Page = [U, S, S, U, U, S, S, S, S];
    private static readonly Outcome[] AdminPage = [U, S, S, U, U, F, F, F, S];
    private static readonly Outcome[] SignedInRead = [U, S, S, U, U, S, S, S, S];
    private static readonly Outcome[] SignedInChange = [U, X, S, U, U, S, S, S, S];
    private static readonly Outcome[] NamespaceRead = [U, S, S, U, U, S, H, S, S];
    private static readonly Outcome[] NamespaceChange = [U, X, S, U, U, F, H, S, S];
    private static readonly Outcome[] AdminRead = [U, S, S, U, U, F, F, F, S];
    private static readonly Outcome[] AdminChange = [U, X, S, U, U, F, F, F, S];
    private static readonly Outcome[] RegistryRoot = [U, U, S, S, U, S, S, S, S];
    private static readonly Outcome[] RegistryTokenEndpoint = [U, U, S, U, U, S, S, S, S];
    private static readonly Outcome[] RegistryRepository = [U, U, S, S, U, S, H, S, S];
    private static readonly Outcome[] RegistryPush = [U, U, S, S, U, S, S, S, S];
    private static readonly Outcome[] Admission = [U, U, U, U, S, U, U, U, U];
    private static readonly Outcome[] Metrics = [U, S, S, U, U, F, F, F, S];
    private static readonly Outcome[] PagePost = [U, S, S, U, U, S, S, S, S];
    private static readonly Outcome[] AdminPagePost = [U, S, S, U, U, F, F, F, S];
    // Tokens are made with a password or the console's session, never with a token (every role column logs in with one).
    private static readonly Outcome[] TokenMint = [U, X, F, U, U, F, F, F, F];
    private static readonly Outcome[] SignOut = [U, X, S, U, U, S, S, S, S];

    /// <summary>The decision for every route. <c>/_blazor</c> (the circuit's transport) is the framework's, behind the fallback policy.</summary>
    private static readonly Dictionary<string, Outcome[]> Rules = new()
    {
        ["GET /healthz"] = Public,
        ["POST /healthz"] = Public,
        ["GET /healthz/live"] = Public,
        ["POST /healthz/live"] = Public,
        ["GET /healthz/ready"] = Public,
        ["POST /healthz/ready"] = Public,
        ["GET /account/login"] = Public,
        ["POST /account/login"] = Public,
        ["POST /account/logout"] = SignOut,
        ["GET /metrics"] = Metrics,
        ["POST /admission/validate"] = Admission,
        ["POST /admission/mutate"] = Admission,

        ["GET /"] = Page,
        ["GET /not-found"] = Page,
        ["GET /schedules"] = Page,
        ["GET /namespaces/{Name}"] = Page,
        ["GET /events"] = Page,
        ["GET /imagestreams"] = Page,
        ["GET /namespaces"] = Page,
        ["GET /webhooks"] = Page,
        ["GET /pullsecrets"] = Page,
        ["GET /imagestreams/{Namespace}/{Name}"] = Page,
        ["GET /images/{Digest}"] = Page,
        ["GET /account/tokens"] = Page,
        ["GET /account/denied"] = Page,
        ["GET /account/signout"] = Page,
        ["GET /decisions"] = AdminPage,
        ["GET /settings"] = AdminPage,
        ["GET /users"] = AdminPage,
        ["GET /registry"] = AdminPage,
        ["GET /policies"] = AdminPage,
        ["GET /mirrors"] = AdminPage,
        ["GET /policies/keys"] = AdminPage,
        // Pages take form posts; Blazor refuses one without its antiforgery token (400) after the cookie's checks here.
        ["POST /"] = PagePost,
        ["POST /not-found"] = PagePost,
        ["POST /schedules"] = PagePost,
        ["POST /namespaces/{Name}"] = PagePost,
        ["POST /events"] = PagePost,
        ["POST /imagestreams"] = PagePost,
        ["POST /namespaces"] = PagePost,
        ["POST /webhooks"] = PagePost,
        ["POST /pullsecrets"] = PagePost,
        ["POST /imagestreams/{Namespace}/{Name}"] = PagePost,
        ["POST /images/{Digest}"] = PagePost,
        ["POST /account/tokens"] = PagePost,
        ["POST /account/denied"] = PagePost,
        ["POST /account/signout"] = PagePost,
        ["POST /decisions"] = AdminPagePost,
        ["POST /settings"] = AdminPagePost,
        ["POST /users"] = AdminPagePost,
        ["POST /registry"] = AdminPagePost,
        ["POST /policies"] = AdminPagePost,
        ["POST /mirrors"] = AdminPagePost,
        ["POST /policies/keys"] = AdminPagePost,
        ["GET /hangfire/{**path}"] = AdminRead,
        // Hangfire checks the antiforgery token of its own commands; the walk's made-up path is its 404.
        ["POST /hangfire/{**path}"] = AdminRead,
        ["GET /_framework/opaque-redirect"] = Page,
        ["GET /openapi/{documentName}.json"] = SignedInRead,

        ["GET /api/v1/namespaces"] = SignedInRead,
        ["POST /api/v1/namespaces"] = AdminChange,
        ["GET /api/v1/namespaces/{ns}"] = NamespaceRead,
        ["DELETE /api/v1/namespaces/{ns}"] = AdminChange,
        ["PUT /api/v1/namespaces/{ns}/anonymous-pull"] = AdminChange,
        ["PUT /api/v1/namespaces/{ns}/shared"] = AdminChange,
        ["GET /api/v1/namespaces/{ns}/members"] = NamespaceRead,
        ["PUT /api/v1/namespaces/{ns}/members/{userName}"] = AdminChange,
        ["DELETE /api/v1/namespaces/{ns}/members/{userName}"] = AdminChange,

        ["GET /api/v1/namespaces/{ns}/imagestreams"] = NamespaceRead,
        ["POST /api/v1/namespaces/{ns}/imagestreams"] = NamespaceChange,
        ["GET /api/v1/namespaces/{ns}/imagestreams/{name}"] = NamespaceRead,
        ["DELETE /api/v1/namespaces/{ns}/imagestreams/{name}"] = NamespaceChange,
        ["PUT /api/v1/namespaces/{ns}/imagestreams/{name}/tags/{tag}"] = NamespaceChange,
        ["POST /api/v1/namespaces/{ns}/imagestreams/{name}/import"] = NamespaceChange,
        ["GET /api/v1/namespaces/{ns}/imagestreams/{name}/imports/{importId:long}"] = NamespaceRead,
        ["DELETE /api/v1/namespaces/{ns}/imagestreams/{name}/tags/{tag}"] = NamespaceChange,
        ["POST /api/v1/namespaces/{ns}/imagestreams/{name}/tags/{tag}/import"] = NamespaceChange,

        ["GET /api/v1/namespaces/{ns}/pullsecrets"] = NamespaceRead,
        ["GET /api/v1/namespaces/{ns}/pullsecrets/{name}"] = NamespaceRead,
        ["PUT /api/v1/namespaces/{ns}/pullsecrets/{name}"] = NamespaceChange,
        ["DELETE /api/v1/namespaces/{ns}/pullsecrets/{name}"] = NamespaceChange,
        ["POST /api/v1/namespaces/{ns}/pullsecrets/test"] = NamespaceChange,

        ["GET /api/v1/namespaces/{ns}/webhooks"] = NamespaceRead,
        ["GET /api/v1/namespaces/{ns}/webhooks/{name}"] = NamespaceRead,
        ["PUT /api/v1/namespaces/{ns}/webhooks/{name}"] = NamespaceChange,
        ["DELETE /api/v1/namespaces/{ns}/webhooks/{name}"] = NamespaceChange,
        ["GET /api/v1/namespaces/{ns}/webhooks/{name}/deliveries"] = NamespaceRead,
        ["POST /api/v1/namespaces/{ns}/webhooks/{name}/deliveries/{eventId:long}/redeliver"] = NamespaceChange,

        // An image is read where a stream the caller reads recorded it; a digest nobody recorded is 404 for everyone.
        ["GET /api/v1/images/{digest}"] = SignedInRead,
        ["PUT /api/v1/images/{digest}/annotations"] = AdminChange,
        ["GET /api/v1/events"] = SignedInRead,
        ["GET /api/v1/changes"] = SignedInRead,
        ["GET /api/v1/schedules"] = SignedInRead,
        ["POST /api/v1/tokens"] = TokenMint,
        ["GET /api/v1/tokens"] = SignedInRead,
        ["DELETE /api/v1/tokens/{id:guid}"] = SignedInChange,
        ["GET /api/v1/users"] = AdminRead,
        ["POST /api/v1/users"] = AdminChange,
        ["PUT /api/v1/users/{userName}"] = AdminChange,
        ["GET /api/v1/settings/import"] = AdminRead,
        ["PUT /api/v1/settings/import"] = AdminChange,
        ["GET /api/v1/mirrors"] = AdminRead,
        ["PUT /api/v1/mirrors"] = AdminChange,
        ["GET /api/v1/policy/rules"] = AdminRead,
        ["PUT /api/v1/policy/rules"] = AdminChange,
        ["GET /api/v1/policy/exemptions"] = AdminRead,
        ["PUT /api/v1/policy/exemptions"] = AdminChange,
        ["GET /api/v1/policy/decisions"] = AdminRead,
        ["GET /api/v1/policy/decisions/summary"] = AdminRead,
        ["POST /api/v1/policy/rules/preview"] = AdminChange,
        ["GET /api/v1/policy/keys"] = AdminRead,
        ["GET /api/v1/policy/keys/{name}"] = AdminRead,
        ["PUT /api/v1/policy/keys/{name}"] = AdminChange,
        ["DELETE /api/v1/policy/keys/{name}"] = AdminChange,
        // A question, asked of a namespace: the generic body names none, which is the caller's mistake (400), not a refusal.
        ["POST /api/v1/policy/evaluate"] = SignedInChange,

        ["GET /v2"] = RegistryRoot,
        ["HEAD /v2"] = RegistryRoot,
        ["GET /v2/_catalog"] = RegistryRoot,
        ["GET /v2/token"] = RegistryTokenEndpoint,
        ["GET /v2/{ns}/{stream}/manifests/{reference}"] = RegistryRepository,
        ["HEAD /v2/{ns}/{stream}/manifests/{reference}"] = RegistryRepository,
        ["GET /v2/{ns}/{stream}/blobs/{digest}"] = RegistryRepository,
        ["HEAD /v2/{ns}/{stream}/blobs/{digest}"] = RegistryRepository,
        ["GET /v2/{ns}/{stream}/tags/list"] = RegistryRepository,
        ["GET /v2/{ns}/{stream}/referrers/{digest}"] = RegistryRepository,
        // Authenticated pushes are answered 405 (the registry serves pulls only); anonymous ones get the challenge first.
        ["POST /v2/{**rest}"] = RegistryPush,
        ["PUT /v2/{**rest}"] = RegistryPush,
        ["PATCH /v2/{**rest}"] = RegistryPush,
        ["DELETE /v2/{**rest}"] = RegistryPush,
    };

    private readonly Dictionary<Who, Func<HttpRequestMessage, HttpRequestMessage>> _as = [];

    /// <summary>The admin, with a token: a password costs a deliberately slow hash at every request, and the walk makes a thousand.</summary>
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        await app.CreateNamespaceAsync("team-a", "app");
        await app.CreateNamespaceAsync("team-b", "other");
        await app.CreateUserAsync("matrix-viewer", "team-a", "Viewer");
        await app.CreateUserAsync("matrix-editor", "team-a", "Editor");
        await app.CreateUserAsync("matrix-other", "team-b", "Editor");
        await app.CreateUserAsync("target", "team-a", "Viewer");
        var viewer = await TokenAsync("matrix-viewer");
        var editor = await TokenAsync("matrix-editor");
        var other = await TokenAsync("matrix-other");
        var pat = await TokenAsync(DashboardFactory.AdminUser, DashboardFactory.AdminPassword);
        _admin = app.Anonymous();
        _admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", pat);
        using var admin = app.AsAdmin();
        var registryToken = await admin.GetFromJsonAsync<JsonElement>("/v2/token?service=dashboard&scope=repository:team-a/app:pull");
        using var browser = app.Anonymous();
        var signIn = await SignInForm.PostAsync(browser, DashboardFactory.AdminUser, DashboardFactory.AdminPassword);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith("dashboard.session=", StringComparison.Ordinal));

        _as[Who.Anonymous] = r => r;
        _as[Who.CookieWithoutAntiforgery] = r => With(r, "Cookie", cookie);
        _as[Who.PersonalAccessToken] = r => With(r, new AuthenticationHeaderValue("Bearer", pat));
        _as[Who.RegistryToken] = r => With(r, new AuthenticationHeaderValue("Bearer", registryToken.GetProperty("token").GetString()));
        _as[Who.AdmissionToken] = r => With(r, new AuthenticationHeaderValue("Bearer", DashboardFactory.AdmissionToken));
        // Each as a registry client or script logs in: Basic, with a personal access token.
        _as[Who.Viewer] = r => With(r, DashboardFactory.Basic("matrix-viewer", viewer));
        _as[Who.EditorOfAnotherNamespace] = r => With(r, DashboardFactory.Basic("matrix-other", other));
        _as[Who.Editor] = r => With(r, DashboardFactory.Basic("matrix-editor", editor));
        _as[Who.Admin] = r => With(r, DashboardFactory.Basic(DashboardFactory.AdminUser, pat));
    }

    public Task DisposeAsync()
    {
        _admin.Dispose();
        return Task.CompletedTask;
    }

    private async Task<string> TokenAsync(string user, string password = DashboardFactory.UserPassword)
    {
        using var client = app.As(user, password);
        var created = await (await client.PostAsJsonAsync("/api/v1/tokens", new { name = $"matrix-{Guid.NewGuid():N}" })).Content.ReadFromJsonAsync<JsonElement>();
        return created.GetProperty("token").GetString()!;
    }

    [Fact]
    public void Every_route_has_a_decision_and_every_decision_a_route()
    {
        var routes = EndpointWalk.Requests(app.Services).Select(r => EndpointWalk.Route(r.Method, r.Endpoint))
            .Where(r => !r.Contains(" /_blazor", StringComparison.Ordinal) && r != "GET /{**path:file}" && r != "HEAD /{**path:file}")
            .ToHashSet();
        Assert.True(!routes.Except(Rules.Keys).Any(), "routes without a decision: " + string.Join(", ", routes.Except(Rules.Keys).Order()));
        Assert.True(!Rules.Keys.Except(routes).Any(), "decisions without a route: " + string.Join(", ", Rules.Keys.Except(routes).Order()));
    }

    [Fact]
    public async Task Every_route_answers_every_kind_of_caller_as_decided()
    {
        // No cookie jar: each caller sends exactly its own credential.
        using var client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var wrong = new List<string>();
        var asked = 0;
        foreach (var (method, url, endpoint) in EndpointWalk.Requests(app.Services))
        {
            if (!Rules.TryGetValue(EndpointWalk.Route(method, endpoint), out var expected))
            {
                continue;
            }

            foreach (var who in Enum.GetValues<Who>())
            {
                using var response = await client.SendAsync(_as[who](EndpointWalk.Request(method, url)));
                asked++;
                var body = await response.Content.ReadAsStringAsync();
                var outcome = OutcomeOf(response, body);
                var want = expected[(int)who];
                if (((int)response.StatusCode >= 500 && !body.Contains("The registry did not serve the request", StringComparison.Ordinal)) || outcome != want)
                {
                    wrong.Add($"{method} {url} as {who}: wanted {want}, got {(int)response.StatusCode} {outcome} {body[..Math.Min(body.Length, 160)]}");
                }

                if (outcome == Outcome.Served && method is not ("GET" or "HEAD"))
                {
                    // Whatever the change did (a namespace deleted, a member removed), the next caller meets the same world.
                    await SetUpAsync();
                }
            }
        }

        Assert.True(asked > 500, $"only {asked} requests were made: is the endpoint walk broken?");
        Assert.True(wrong.Count == 0, $"{wrong.Count} answers differ from the decisions:\n" + string.Join("\n", wrong));
    }

    private static Outcome OutcomeOf(HttpResponseMessage response, string body) => response.StatusCode switch
    {
        HttpStatusCode.Unauthorized => Outcome.Unauthenticated,
        // The sign-in page as a challenge names where to return; signing out also ends there, without one.
        HttpStatusCode.Redirect when response.Headers.Location?.OriginalString.Contains("/account/login?ReturnUrl=") == true => Outcome.Unauthenticated,
        HttpStatusCode.Forbidden => Outcome.Forbidden,
        HttpStatusCode.NotFound when body.Contains("'team-a' does not exist", StringComparison.Ordinal) => Outcome.Hidden,
        HttpStatusCode.BadRequest when body.Contains("Cross-site request refused", StringComparison.Ordinal) => Outcome.CrossSiteRefused,
        _ => Outcome.Served,
    };

    /// <summary>
    /// Namespace team-a with stream app, and its members: a Viewer, an Editor and <c>target</c> (for the user routes to
    /// change); team-b's Editor is untouched by the walk's changes.
    /// </summary>
    private async Task SetUpAsync()
    {
        await _admin.PostAsJsonAsync("/api/v1/namespaces", new { name = "team-a" });
        await _admin.PostAsJsonAsync("/api/v1/namespaces/team-a/imagestreams", new { name = "app" });
        foreach (var (user, role) in new[] { ("matrix-viewer", "Viewer"), ("matrix-editor", "Editor"), ("target", "Viewer") })
        {
            (await _admin.PutAsJsonAsync($"/api/v1/namespaces/team-a/members/{user}", new { role })).EnsureSuccessStatusCode();
        }
    }

    private static HttpRequestMessage With(HttpRequestMessage request, AuthenticationHeaderValue authorization)
    {
        request.Headers.Authorization = authorization;
        return request;
    }

    private static HttpRequestMessage With(HttpRequestMessage request, string header, string value)
    {
        request.Headers.Add(header, value);
        return request;
    }
}
