using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Security;

public sealed partial class SignInAndTokensTests(DashboardFactory app) : IClassFixture<DashboardFactory>
{
    [Fact]
    public async Task The_sign_in_form_signs_in_with_the_right_password_and_refuses_a_wrong_one()
    {
        using var client = app.Anonymous();
        var wrong = await PostLoginAsync(client, DashboardFactory.AdminUser, "not-the-password");
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("Wrong user name or password.", await wrong.Content.ReadAsStringAsync());
        Assert.DoesNotContain(wrong.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("dashboard.session")));

        var right = await PostLoginAsync(client, DashboardFactory.AdminUser, DashboardFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        var cookie = Assert.Single(right.Headers.GetValues("Set-Cookie"), v => v.StartsWith("dashboard.session="));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_sign_in_form_without_its_antiforgery_token_is_refused()
    {
        using var client = app.Anonymous();
        var response = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["Input.UserName"] = DashboardFactory.AdminUser,
            ["Input.Password"] = DashboardFactory.AdminPassword,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_user_out_from_that_address_even_for_the_right_one()
    {
        await app.CreateUserAsync("clumsy");
        for (var i = 0; i < 5; i++)
        {
            using var wrong = app.As("clumsy", "Wrong-Passw0rd!");
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/v1/namespaces")).StatusCode);
        }

        using var right = app.As("clumsy", DashboardFactory.UserPassword);
        Assert.Equal(HttpStatusCode.Unauthorized, (await right.GetAsync("/api/v1/namespaces")).StatusCode);
        using var client = app.Anonymous();
        var form = await PostLoginAsync(client, "clumsy", DashboardFactory.UserPassword);
        Assert.Contains("locked", await form.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_disabled_user_is_refused_with_password_and_token_and_enabled_again_works()
    {
        await app.CreateUserAsync("leaver");
        using var leaver = app.As("leaver", DashboardFactory.UserPassword);
        var token = await CreateTokenAsync(leaver, "ci");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/users/leaver", new { disabled = true })).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.Unauthorized, (await leaver.GetAsync("/api/v1/namespaces")).StatusCode);
        using var withToken = app.Anonymous();
        withToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await withToken.GetAsync("/api/v1/namespaces")).StatusCode);

        (await admin.PutAsJsonAsync("/api/v1/users/leaver", new { disabled = false })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await withToken.GetAsync("/api/v1/namespaces")).StatusCode);
    }

    [Fact]
    public async Task An_open_browser_session_of_a_disabled_user_stops_working()
    {
        await app.CreateUserAsync("session-user");
        using var browser = app.Anonymous();
        var signIn = await PostLoginAsync(browser, "session-user", DashboardFactory.UserPassword);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/namespaces")).StatusCode);

        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/users/session-user", new { disabled = true })).EnsureSuccessStatusCode();

        var after = await browser.GetAsync("/namespaces");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Contains("/account/login", after.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_token_works_as_bearer_and_as_basic_password_until_revoked()
    {
        await app.CreateUserAsync("robot");
        using var robot = app.As("robot", DashboardFactory.UserPassword);
        var created = await (await robot.PostAsJsonAsync("/api/v1/tokens", new { name = "deploy" })).Content.ReadFromJsonAsync<JsonElement>();
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("isd_", token);

        using var bearer = app.Anonymous();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/api/v1/namespaces")).StatusCode);
        using var basic = app.As("robot", token);
        Assert.Equal(HttpStatusCode.OK, (await basic.GetAsync("/api/v1/namespaces")).StatusCode);
        using var otherUser = app.As(DashboardFactory.AdminUser, token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherUser.GetAsync("/api/v1/namespaces")).StatusCode);
        // A token does not make tokens: a leaked one cannot outlive its own revocation through a permanent successor.
        foreach (var withToken in new[] { bearer, basic })
        {
            var minted = await withToken.PostAsJsonAsync("/api/v1/tokens", new { name = "successor" });
            Assert.Equal(HttpStatusCode.Forbidden, minted.StatusCode);
            Assert.Contains("password", (await Problem.ReadAsync(minted)).GetProperty("detail").GetString());
        }

        var listed = await robot.GetFromJsonAsync<JsonElement>("/api/v1/tokens");
        var entry = Assert.Single(listed.EnumerateArray());
        Assert.False(entry.TryGetProperty("token", out _), "a listed token must not carry its secret");
        Assert.True(entry.TryGetProperty("lastUsedAt", out var lastUsed) && lastUsed.ValueKind == JsonValueKind.String);

        Assert.Equal(HttpStatusCode.NoContent, (await robot.DeleteAsync($"/api/v1/tokens/{created.GetProperty("id").GetString()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("/api/v1/namespaces")).StatusCode);
    }

    [Fact]
    public async Task An_expired_token_is_refused_and_an_expiry_in_the_past_is_a_field_error()
    {
        await app.CreateUserAsync("temp");
        using var user = app.As("temp", DashboardFactory.UserPassword);
        var past = await user.PostAsJsonAsync("/api/v1/tokens", new { name = "old", expiresAt = DateTime.UtcNow.AddDays(-1) });
        Assert.Equal(HttpStatusCode.BadRequest, past.StatusCode);
        Assert.Contains("future", await Problem.FieldErrorAsync(past, "expiresAt"));
    }

    [Fact]
    public async Task No_token_secret_is_stored_in_the_database_file()
    {
        await app.CreateUserAsync("secretive");
        using var user = app.As("secretive", DashboardFactory.UserPassword);
        var token = await CreateTokenAsync(user, "scanner");

        var content = await app.StoredTextAsync();
        Assert.Contains("scanner", content);
        Assert.DoesNotContain(token, content);
        Assert.DoesNotContain(DashboardFactory.UserPassword, content);
    }

    [Fact]
    public async Task Pages_carry_the_security_headers()
    {
        using var client = app.Anonymous();
        var response = await client.GetAsync("/account/login");
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task The_hangfire_dashboard_opens_for_admins_only()
    {
        await app.CreateUserAsync("operator");
        using var anonymous = app.Anonymous();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/hangfire")).StatusCode);
        using var nonAdmin = app.As("operator", DashboardFactory.UserPassword);
        Assert.Equal(HttpStatusCode.Forbidden, (await nonAdmin.GetAsync("/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await nonAdmin.GetAsync("/hangfire/recurring")).StatusCode);
        using var admin = app.AsAdmin();
        var page = await admin.GetAsync("/hangfire/recurring");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("maintenance:prune", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_answers_anonymously_with_database_and_job_storage()
    {
        using var client = app.Anonymous();
        var health = await client.GetFromJsonAsync<JsonElement>("/healthz");
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.True(health.GetProperty("checks").TryGetProperty("hangfire", out _));
    }

    private static async Task<string> CreateTokenAsync(HttpClient client, string name)
    {
        var response = await client.PostAsJsonAsync("/api/v1/tokens", new { name });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>Submits the static sign-in form the way a browser does: with the antiforgery token the page rendered.</summary>

    private static Task<HttpResponseMessage> PostLoginAsync(HttpClient client, string userName, string password) =>
        SignInForm.PostAsync(client, userName, password);
}
