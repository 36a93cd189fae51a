using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dashboard.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dashboard.Tests.Triggers;

/// <summary>A tag's new generation reaches a real HTTP receiver through the app's own Hangfire, signed with the webhook's secret.</summary>
public sealed class WebhookTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    private const string Secret = "a-webhook-secret-of-some-length";
    private readonly ConcurrentQueue<(string Signature, byte[] Body)> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly ConcurrentQueue<(string Authorization, string Query)> _receivedWithCredentials = new();
    private RegistryServer _registry = null!;
    private WebApplication _receiver = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            _received.Enqueue((context.Request.Headers["X-Dashboard-Signature-256"].ToString(), body.ToArray()));
            _arrived.Release();
            return Results.Ok();
        });
        _receiver.MapPost("/private-hook", (HttpContext context) =>
        {
            _receivedWithCredentials.Enqueue((context.Request.Headers.Authorization.ToString(), context.Request.QueryString.Value ?? ""));
            return Results.Ok();
        });
        await _receiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _registry.DisposeAsync();
    }

    [Fact]
    public async Task A_stream_or_tag_filter_longer_than_its_bound_is_refused_naming_the_field()
    {
        await app.CreateNamespaceAsync("long-filters", "app");
        using var admin = app.AsAdmin();
        var put = await admin.PutAsJsonAsync("/api/v1/namespaces/long-filters/webhooks/ci",
            new { url = "http://receiver.example/hook", secret = Secret, tags = new string('*', 201) });
        Assert.Contains("at most 200", await Problem.FieldErrorAsync(put, "tags"));
    }

    /// <summary>Issue 11, finding 7: the user-info and query string of a webhook URL are write-only, like its secret.</summary>
    [Fact]
    public async Task Finding_7_a_webhook_urls_credentials_are_shown_and_audited_redacted_stored_protected_and_still_sent()
    {
        await ImagePusher.PushImageAsync(_registry, "team/private-hook", "1", seed: "private-hook");
        await app.CreateNamespaceAsync("private-hooks", "app");
        await app.CreateUserAsync("hook-viewer", "private-hooks", "Viewer");
        const string password = "hook-password-31", token = "query-token-47";
        var url = $"{_receiver.Urls.First()}/private-hook".Replace("http://", $"http://hookuser:{password}@") + $"?token={token}";
        using var admin = app.AsAdmin();

        var put = await admin.PutAsJsonAsync("/api/v1/namespaces/private-hooks/webhooks/ci", new { url, secret = Secret });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var shown = (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
        Assert.Equal($"{_receiver.Urls.First()}/private-hook?****".Replace("http://", "http://****@"), shown);
        using var viewer = app.As("hook-viewer", DashboardFactory.UserPassword);
        var listed = await viewer.GetStringAsync("/api/v1/namespaces/private-hooks/webhooks");
        var events = await admin.GetStringAsync("/api/v1/events?namespace=private-hooks");
        var stored = await app.StoredTextAsync();
        foreach (var text in new[] { listed, events, stored })
        {
            Assert.DoesNotContain(password, text);
            Assert.DoesNotContain(token, text);
        }

        Assert.Contains("****", listed);
        // Sending back the URL as shown (to change something else) keeps the hidden parts.
        (await admin.PutAsJsonAsync("/api/v1/namespaces/private-hooks/webhooks/ci", new { url = shown, tags = "1" })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/private-hooks/imagestreams/app/tags/1", new { from = $"{_registry.Host}/team/private-hook:1", insecure = true }))
            .EnsureSuccessStatusCode();
        var delivered = await Eventually.ReadAsync(() => Task.FromResult(_receivedWithCredentials.ToArray()), r => r.Length > 0);
        var (authorization, query) = Assert.Single(delivered);
        Assert.Equal($"?token={token}", query);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"hookuser:{password}")), authorization);
        Assert.DoesNotContain(password, await app.StoredTextAsync());
    }

    [Fact]
    public async Task A_new_generation_is_delivered_once_signed_and_an_unchanged_import_delivers_nothing()
    {
        var first = await ImagePusher.PushImageAsync(_registry, "team/hooked", "1", seed: "one");
        await app.CreateNamespaceAsync("hooks", "app");
        using var admin = app.AsAdmin();
        var put = await admin.PutAsJsonAsync("/api/v1/namespaces/hooks/webhooks/ci", new { url = $"{_receiver.Urls.First()}/hook", secret = Secret, tags = "1*" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.DoesNotContain(Secret, await put.Content.ReadAsStringAsync());

        (await admin.PutAsJsonAsync("/api/v1/namespaces/hooks/imagestreams/app/tags/1", new { from = $"{_registry.Host}/team/hooked:1", insecure = true }))
            .EnsureSuccessStatusCode();
        Assert.True(await _arrived.WaitAsync(TimeSpan.FromSeconds(30)), "the first generation was not delivered");
        var (signature, body) = Assert.Single(_received);
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body)), signature);
        var payload = JsonDocument.Parse(body).RootElement;
        Assert.Equal("1.0", payload.GetProperty("specversion").GetString());
        Assert.Equal("dashboard.image.changed", payload.GetProperty("type").GetString());
        Assert.Equal("/namespaces/hooks/imagestreams/app", payload.GetProperty("source").GetString());
        Assert.Equal(first.Digest, payload.GetProperty("data").GetProperty("image").GetString());

        await admin.PostAsync("/api/v1/namespaces/hooks/imagestreams/app/tags/1/import", null);
        var second = await ImagePusher.PushImageAsync(_registry, "team/hooked", "1", seed: "two");
        await admin.PostAsync("/api/v1/namespaces/hooks/imagestreams/app/tags/1/import", null);
        Assert.True(await _arrived.WaitAsync(TimeSpan.FromSeconds(30)), "the second generation was not delivered");
        Assert.Equal(2, _received.Count);
        var moved = JsonDocument.Parse(_received.Last().Body).RootElement.GetProperty("data");
        Assert.Equal(second.Digest, moved.GetProperty("image").GetString());
        Assert.Equal(first.Digest, moved.GetProperty("previousImage").GetString());

        // The delivery is recorded after the receiver answers, so the record may trail the receiver by a moment.
        var deliveries = await Eventually.ReadAsync(
            () => admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/hooks/webhooks/ci/deliveries"), d => d.GetArrayLength() >= 2);
        Assert.Equal(2, deliveries.GetArrayLength());
        Assert.All(deliveries.EnumerateArray(), d => Assert.True(d.GetProperty("succeeded").GetBoolean()));

        // The Events page's image changes: newest first, from the first image to the next.
        var changes = await admin.GetFromJsonAsync<JsonElement>("/api/v1/changes?namespace=hooks");
        Assert.Equal(2, changes.GetProperty("total").GetInt32());
        Assert.Equal(second.Digest, changes.GetProperty("items")[0].GetProperty("image").GetString());
        Assert.Equal(first.Digest, changes.GetProperty("items")[0].GetProperty("previousImage").GetString());
        await app.CreateUserAsync("hooks-outsider");
        using (var outsider = app.As("hooks-outsider", DashboardFactory.UserPassword))
        {
            Assert.Equal(0, (await outsider.GetFromJsonAsync<JsonElement>("/api/v1/changes?namespace=hooks")).GetProperty("total").GetInt32());
        }

        // Redeliver: the receiver gets the same event again, and the attempt is listed.
        var eventId = deliveries[0].GetProperty("eventId").GetInt64();
        var again = await admin.PostAsync($"/api/v1/namespaces/hooks/webhooks/ci/deliveries/{eventId}/redeliver", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("succeeded").GetBoolean());
        Assert.Equal(3, _received.Count);
        Assert.Equal(eventId.ToString(), JsonDocument.Parse(_received.Last().Body).RootElement.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.NotFound,
            (await admin.PostAsync("/api/v1/namespaces/hooks/webhooks/ci/deliveries/999999/redeliver", null)).StatusCode);

        // Only the networks an admin allowed read /metrics without a session (the test server's client has no address).
        var metrics = await admin.GetStringAsync("/metrics");
        var delivered = System.Text.RegularExpressions.Regex.Match(metrics, @"dashboard_webhook_deliveries_total\{result=""succeeded""\} (\d+)");
        Assert.True(delivered.Success && int.Parse(delivered.Groups[1].Value) >= 3, metrics);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task A_scheduled_tag_moved_upstream_gets_a_new_generation_from_the_hangfire_tick_and_its_webhook_is_told()
    {
        using var admin = app.AsAdmin();
        // Seconds instead of minutes, at run time through the settings API, as an admin would.
        (await admin.PutAsJsonAsync("/api/v1/settings/import",
            new { defaultIntervalSeconds = 2, minimumIntervalSeconds = 1, maxImportsPerMinute = -1, tickSeconds = 1 })).EnsureSuccessStatusCode();
        try
        {
            var first = await ImagePusher.PushImageAsync(_registry, "team/ticked", "1", seed: "one");
            await app.CreateNamespaceAsync("hooks-sched", "app");
            (await admin.PutAsJsonAsync("/api/v1/namespaces/hooks-sched/webhooks/ci", new { url = $"{_receiver.Urls.First()}/hook", secret = Secret }))
                .EnsureSuccessStatusCode();
            (await admin.PutAsJsonAsync("/api/v1/namespaces/hooks-sched/imagestreams/app/tags/1",
                new { from = $"{_registry.Host}/team/ticked:1", insecure = true, scheduled = true })).EnsureSuccessStatusCode();
            Assert.True(await _arrived.WaitAsync(TimeSpan.FromSeconds(30)), "the first generation was not delivered");

            // Nobody imports by hand from here on: the tick finds the tag due, the check job sees the new digest.
            var second = await ImagePusher.PushImageAsync(_registry, "team/ticked", "1", seed: "two");
            Assert.True(await _arrived.WaitAsync(TimeSpan.FromSeconds(40)),
                $"the scheduler's new generation was not delivered; schedules: {await admin.GetStringAsync("/api/v1/schedules?search=hooks-sched")}");
            var data = JsonDocument.Parse(_received.Last().Body).RootElement.GetProperty("data");
            Assert.Equal((second.Digest, first.Digest), (data.GetProperty("image").GetString(), data.GetProperty("previousImage").GetString()));

            var schedules = await Eventually.ReadAsync(() => admin.GetFromJsonAsync<JsonElement>("/api/v1/schedules?search=hooks-sched"),
                s => s.GetProperty("items")[0].GetProperty("lastJobId").ValueKind == JsonValueKind.String);
            var row = schedules.GetProperty("items")[0];
            Assert.Equal(0, row.GetProperty("consecutiveFailures").GetInt32());
            Assert.NotEqual(JsonValueKind.Null, row.GetProperty("lastChange").ValueKind);
            Assert.True(schedules.GetProperty("lastHour").GetProperty("changes").GetInt32() >= 1);
        }
        finally
        {
            (await admin.PutAsJsonAsync("/api/v1/settings/import",
                new { defaultIntervalSeconds = 900, minimumIntervalSeconds = 900, maxImportsPerMinute = 60, tickSeconds = 60 })).EnsureSuccessStatusCode();
        }
    }

    [Fact]
    public async Task A_webhook_without_a_secret_or_with_a_bad_url_is_refused_naming_the_field()
    {
        await app.CreateNamespaceAsync("hooks-bad");
        using var admin = app.AsAdmin();
        var bad = await admin.PutAsJsonAsync("/api/v1/namespaces/hooks-bad/webhooks/x", new { url = "not a url" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await Problem.ReadAsync(bad)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("url", out _));
        Assert.True(errors.TryGetProperty("secret", out _));
    }
}
