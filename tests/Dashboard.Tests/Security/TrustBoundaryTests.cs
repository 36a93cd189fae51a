using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dashboard.Tests.Admission;
using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Security;

/// <summary>
/// The trust-boundary findings of issue 11, each as a hostile caller would try it (the blob cache's is in
/// <see cref="Proxy.PullThroughTests"/>, the follows' in <see cref="Import.TaggingTests"/>). docs/security.md states the rules.
/// </summary>
public sealed class TrustBoundaryTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await app.CreateNamespaceAsync("team-a", "app");
        await app.CreateUserAsync("editor-a", "team-a", "Editor");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Finding_1_a_registry_token_opens_the_registry_and_nothing_else()
    {
        using var admin = app.AsAdmin();
        var issued = await admin.GetFromJsonAsync<JsonElement>("/v2/token?service=dashboard&scope=repository:team-a/app:pull");
        using var bearer = app.Anonymous();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", issued.GetProperty("token").GetString());

        // What the token was made for still works.
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/v2/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/v2/team-a/app/tags/list")).StatusCode);

        // Everything else refuses it, although it names an admin.
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("/api/v1/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.PostAsJsonAsync("/api/v1/tokens", new { name = "forever" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await bearer.PostAsJsonAsync("/api/v1/users", new { userName = "mallory", password = "Mall0ry-Passw0rd!", admin = true })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("/openapi/v1.json")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("/hangfire")).StatusCode);
        // Nor can it mint more tokens.
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("/v2/token?service=dashboard&scope=repository:team-a/app:pull")).StatusCode);
        Assert.DoesNotContain("mallory", await admin.GetStringAsync("/api/v1/users"));
    }

    [Fact]
    public async Task Finding_1_the_registry_takes_no_cookie_session()
    {
        using var browser = app.Anonymous();
        var signIn = await SignInForm.PostAsync(browser, DashboardFactory.AdminUser, DashboardFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var session = SessionCookie(signIn);
        // The cookie is a real session: the API answers it.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(browser, HttpMethod.Get, "/api/v1/namespaces", session)).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(browser, HttpMethod.Get, "/v2/", session)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(browser, HttpMethod.Get, "/v2/team-a/app/tags/list", session)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await SendAsync(browser, HttpMethod.Get, "/v2/token?service=dashboard&scope=repository:team-a/app:pull", session)).StatusCode);
    }

    [Fact]
    public async Task Finding_6_a_change_with_a_session_cookie_needs_an_antiforgery_token_or_the_custom_header()
    {
        using var browser = app.Anonymous();
        var session = SessionCookie(await SignInForm.PostAsync(browser, DashboardFactory.AdminUser, DashboardFactory.AdminPassword));

        // What a form on another site can send: the cookie, no body or a form body, no custom header.
        using var forged = await SendAsync(browser, HttpMethod.Post, "/api/v1/namespaces/team-a/imagestreams/app/tags/latest/import", session);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("antiforgery", await forged.Content.ReadAsStringAsync());
        using var forgedForm = await SendAsync(browser, HttpMethod.Post, "/api/v1/namespaces", session,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "forged" }));
        Assert.False(forgedForm.IsSuccessStatusCode, $"a forged form post answered {(int)forgedForm.StatusCode}");
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(browser, HttpMethod.Get, "/api/v1/namespaces/forged", session)).StatusCode);

        // The dashboard's own script sends the header, which another site cannot without a preflight: it reaches the handler.
        using var own = new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces") { Content = JsonContent.Create(new { name = "own-page" }) };
        own.Headers.Add("Cookie", session);
        own.Headers.Add("X-Requested-With", "XMLHttpRequest");
        Assert.Equal(HttpStatusCode.Created, (await browser.SendAsync(own)).StatusCode);

        // Scripts with credentials in the header are not affected.
        using var script = app.AsAdmin();
        Assert.Equal(HttpStatusCode.Created, (await script.PostAsJsonAsync("/api/v1/namespaces", new { name = "scripted" })).StatusCode);
    }

    private static string SessionCookie(HttpResponseMessage signIn) =>
        signIn.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith("dashboard.session=", StringComparison.Ordinal));

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, string cookie, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Add("Cookie", cookie);
        return client.SendAsync(request);
    }
}

/// <summary>
/// Issue 11, finding 5: with no bearer token configured, the admission endpoints answer only their allowed networks. The
/// real Kestrel on loopback; the stranger is a client bound to another loopback address (127.0.0.2) outside the list.
/// </summary>
public sealed class AdmissionNetworkTests : IAsyncLifetime
{
    private KestrelDashboard _app = null!;

    public Task InitializeAsync()
    {
        // No bearer token: the secure default decides by network, here 127.0.0.1 alone.
        _app = new KestrelDashboard(new Dictionary<string, string>
        {
            ["Dashboard:Admission:AllowedNetworks:0"] = "127.0.0.1/32",
            ["Dashboard:Admission:AllowedNetworks:1"] = "::1/128",
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Finding_5_without_a_token_admission_answers_only_the_allowed_networks_and_refused_callers_leave_no_decision()
    {
        using var stranger = _app.From(IPAddress.Parse("127.0.0.2"));
        using var refused = await stranger.PostAsync("/admission/validate", Review("stranger-pod"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("AllowedNetworks", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.PostAsync("/admission/mutate", Review("stranger-pod"))).StatusCode);

        using var apiServer = _app.From(IPAddress.Loopback);
        using var answered = await apiServer.PostAsync("/admission/validate", Review("cluster-pod"));
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);

        // Decisions are written in order by one writer: once the later one is kept, the refused one would be too.
        using var admin = _app.From(IPAddress.Loopback, "admin", KestrelDashboard.AdminPassword);
        var decisions = await Eventually.ReadAsync(() => admin.GetStringAsync("/api/v1/policy/decisions"), text => text.Contains("cluster-pod"));
        Assert.Contains("cluster-pod", decisions);
        Assert.DoesNotContain("stranger-pod", decisions);
    }

    private static StringContent Review(string pod) => new(AdmissionReviewTests.Review("Pod",
        $$$"""{"metadata":{"name":"{{{pod}}}"},"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}}"""), Encoding.UTF8, "application/json");
}
