using System.Net;
using System.Net.Http.Json;
using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Security;

/// <summary>
/// Issue 12, finding 7: failed passwords lock a user for the address they came from, not everywhere, and an address
/// that fails too often is refused before any password is checked. Clients connect from distinct loopback addresses.
/// </summary>
public sealed class SignInThrottleTests : IAsyncLifetime
{
    private KestrelDashboard _app = null!;

    public Task InitializeAsync()
    {
        _app = new KestrelDashboard();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Finding_7_five_wrong_passwords_at_the_token_endpoint_lock_the_admin_out_from_that_address_only()
    {
        using (var attacker = _app.From(IPAddress.Parse("127.0.0.3"), "admin", "Wrong-Passw0rd!"))
        {
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.GetAsync("/v2/token?service=dashboard")).StatusCode);
            }
        }

        // From the attacker's address even the right password is refused now…
        using var fromThere = _app.From(IPAddress.Parse("127.0.0.3"), "admin", KestrelDashboard.AdminPassword);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fromThere.GetAsync("/api/v1/namespaces")).StatusCode);
        // …while the admin, elsewhere, signs in as always.
        using var admin = _app.From(IPAddress.Loopback, "admin", KestrelDashboard.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/namespaces")).StatusCode);
        var users = await admin.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/api/v1/users");
        Assert.False(users!.Single(u => u.GetProperty("userName").GetString() == "admin").GetProperty("lockedOut").GetBoolean());
    }

    [Fact]
    public async Task An_address_that_fails_too_often_is_refused_before_any_password_is_checked()
    {
        using var admin = _app.From(IPAddress.Loopback, "admin", KestrelDashboard.AdminPassword);
        var users = Enumerable.Range(0, 5).Select(i => $"sprayed-{i}").ToList();
        foreach (var user in users.Append("innocent"))
        {
            (await admin.PostAsJsonAsync("/api/v1/users", new { userName = user, password = DashboardFactory.UserPassword })).EnsureSuccessStatusCode();
        }

        // Four wrong passwords for each of five users: under every user's own lockout, but twenty from one address.
        foreach (var user in users)
        {
            using var spray = _app.From(IPAddress.Parse("127.0.0.4"), user, "Wrong-Passw0rd!");
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await spray.GetAsync("/api/v1/namespaces")).StatusCode);
            }
        }

        using var sameAddress = _app.From(IPAddress.Parse("127.0.0.4"), "innocent", DashboardFactory.UserPassword);
        Assert.Equal(HttpStatusCode.Unauthorized, (await sameAddress.GetAsync("/api/v1/namespaces")).StatusCode);
        using var elsewhere = _app.From(IPAddress.Parse("127.0.0.5"), "innocent", DashboardFactory.UserPassword);
        Assert.Equal(HttpStatusCode.OK, (await elsewhere.GetAsync("/api/v1/namespaces")).StatusCode);
    }
}
