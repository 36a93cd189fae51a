using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dashboard.Tests.Instances;

/// <summary>
/// Two app processes on one PostgreSQL database, as behind a load balancer: scheduled work is done once between them,
/// secrets and sign-ins cross from one to the other, and a crashed instance's work is finished by the other. Runs in the
/// PostgreSQL pass of <c>./test.sh</c> only (category <c>PostgreSql</c>; one SQLite file has one instance).
/// </summary>
[Trait("Category", "PostgreSql")]
public sealed class SeveralInstancesTests : IAsyncLifetime
{
    private const int Tags = 200;
    private const string Secret = "a-webhook-secret-for-two-instances";
    private readonly ConcurrentQueue<JsonElement> _delivered = new();
    private RegistryServer _upstream = null!;
    private WebApplication _receiver = null!;
    private TestDatabase _database = null!;

    public async Task InitializeAsync()
    {
        Assert.True(TestDatabase.IsPostgreSql, "These tests need a PostgreSQL server: ./test.sh starts one and sets DASHBOARD_TEST_POSTGRES.");
        _database = TestDatabase.Create();
        _upstream = await RegistryServer.StartAsync(RegistryAuth.Basic);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpContext context) =>
        {
            _delivered.Enqueue((await JsonDocument.ParseAsync(context.Request.Body)).RootElement.Clone());
            return Results.Ok();
        });
        await _receiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _upstream.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Two_instances_check_every_due_tag_once_and_share_secrets_and_sign_ins()
    {
        await using var first = await StartAsync();
        await using var second = await StartAsync();
        // A pull secret written through the second instance; the first imports with it (the upstream needs a login).
        await PrepareAsync(first, second, "fleet");

        var (marked, changed) = await RunOneCycleAsync(first, "fleet");

        // Each due tag was checked exactly once: one answered HEAD per upstream tag, whichever instance ran it (a 401
        // challenge before an instance's first login to the registry is not a check).
        var heads = _upstream.Requests.Skip(marked).Where(r => r.StartsWith("HEAD /v2/team/app/manifests/", StringComparison.Ordinal) && r.EndsWith(" 200", StringComparison.Ordinal))
            .GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(Tags, heads.Count);
        Assert.All(heads, h => Assert.True(h.Value == 1, $"{h.Key} was answered {h.Value} times"));
        // Both instances did part of it, and together exactly the cycle.
        var (done1, done2) = (await ChecksAsync(first), await ChecksAsync(second));
        Assert.True(done1 > 0 && done2 > 0, $"checks per instance: {done1} and {done2}");
        Assert.Equal(Tags, done1 + done2);

        await AssertHistoriesAsync(second, "fleet", changed);
        // Each change was told once: one delivery per tag for the new image, no event delivered twice.
        var events = await Eventually.ReadAsync(() => Task.FromResult(Delivered("fleet", changed)), e => DistinctTags(e) >= Tags, TimeSpan.FromSeconds(60));
        Assert.Equal(Tags, DistinctTags(events));
        var ids = _delivered.Where(e => Namespace(e) == "fleet").Select(e => e.GetProperty("id").GetString()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());

        // A sign-in on one instance is a sign-in on the other (one Data Protection key ring, in the database).
        using var browser = first.Client();
        var signedIn = await SignInForm.PostAsync(browser, "admin", AppProcess.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var cookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("dashboard.session=", StringComparison.Ordinal)).Split(';')[0];
        using var elsewhere = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces");
        elsewhere.Headers.Add("Cookie", cookie);
        using var otherBrowser = second.Client();
        var answer = await otherBrowser.SendAsync(elsewhere);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("fleet", await answer.Content.ReadAsStringAsync());
        // So is a registry token from one instance's token endpoint.
        using var login = new HttpRequestMessage(HttpMethod.Get, "/v2/token?service=dashboard&scope=repository:fleet/app:pull");
        login.Headers.Authorization = DashboardFactory.Basic("admin", AppProcess.AdminPassword);
        var token = (await (await browser.SendAsync(login)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        using var pull = new HttpRequestMessage(HttpMethod.Get, "/v2/fleet/app/tags/list");
        pull.Headers.Authorization = new("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await otherBrowser.SendAsync(pull)).StatusCode);
    }

    [Fact]
    public async Task When_one_instance_dies_in_the_middle_of_a_cycle_the_other_finishes_it_and_nothing_is_lost_or_doubled()
    {
        await using var first = await StartAsync();
        await using var second = await StartAsync();
        await PrepareAsync(first, second, "crash");

        var (_, changed) = await RunOneCycleAsync(first, "crash", async () =>
        {
            // Mid-cycle: some tags have their new image, most do not yet.
            await Eventually.ReadAsync(() => UpdatedAsync(first, "crash", null), n => n >= 10, TimeSpan.FromSeconds(60));
            await second.KillAsync();
            Assert.True(await UpdatedAsync(first, "crash", null) < Tags, "the cycle ended before the instance was killed: the test proves nothing");
        });

        await AssertHistoriesAsync(first, "crash", changed);
        // Every change was told: a delivery interrupted by the crash may be sent again, but with the same event id. (Wait
        // for every tag, not for a count of deliveries: a repeated one would reach the count before the last tag's.)
        var events = await Eventually.ReadAsync(() => Task.FromResult(Delivered("crash", changed)), e => DistinctTags(e) >= Tags, TimeSpan.FromSeconds(90));
        Assert.Equal(Tags, DistinctTags(events));
        Assert.Equal(Tags, events.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
    }

    private Task<AppProcess> StartAsync() => AppProcess.StartAsync(_database.ProcessEnvironment().Concat(new Dictionary<string, string>
    {
        ["Dashboard__Registries__AllowLoopback"] = "true",
        ["Dashboard__Registries__MaxRetries"] = "1",
        ["Dashboard__Webhooks__CoalesceSeconds"] = "1",
        // An instance killed between saving a batch of imports and queueing their deliveries (up to 50 per save) leaves
        // events nobody queued: queued again after 20 s here, not ten minutes.
        ["Dashboard__Webhooks__LostAfterSeconds"] = "20",
        // A lease of 15 s: a check queued on an instance that dies is queued again within seconds, not ten minutes.
        ["Dashboard__Import__LeaseSeconds"] = "15",
        ["Dashboard__Import__TickSeconds"] = "1",
    }));

    /// <summary>
    /// Scheduling paused; a namespace with a webhook, a pull secret written through <paramref name="other"/>, and
    /// <see cref="Tags"/> scheduled tags imported through <paramref name="app"/>, each following its own upstream tag.
    /// </summary>
    private async Task PrepareAsync(AppProcess app, AppProcess other, string @namespace)
    {
        await SettingsAsync(app, disabled: true);
        var image = await ImagePusher.PushImageAsync(_upstream, "team/app", "t0", seed: $"{@namespace}-old");
        await RetagAllAsync();
        (await app.Admin.PostAsJsonAsync("/api/v1/namespaces", new { name = @namespace })).EnsureSuccessStatusCode();
        (await app.Admin.PostAsJsonAsync($"/api/v1/namespaces/{@namespace}/imagestreams", new { name = "app" })).EnsureSuccessStatusCode();
        (await app.Admin.PutAsJsonAsync($"/api/v1/namespaces/{@namespace}/webhooks/ci", new { url = $"{_receiver.Urls.First()}/hook", secret = Secret }))
            .EnsureSuccessStatusCode();
        (await other.Admin.PutAsJsonAsync($"/api/v1/namespaces/{@namespace}/pullsecrets/upstream",
            new { registry = _upstream.Host, username = RegistryServer.User, password = RegistryServer.Password })).EnsureSuccessStatusCode();
        for (var i = 0; i < Tags; i++)
        {
            var put = await app.Admin.PutAsJsonAsync($"/api/v1/namespaces/{@namespace}/imagestreams/app/tags/t{i}",
                new { from = $"{_upstream.Host}/team/app:t{i}", insecure = true, scheduled = true });
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }

        Assert.Equal(Tags, await UpdatedAsync(app, @namespace, image.Digest));
    }

    /// <summary>
    /// Moves every upstream tag to a new image, waits until every schedule is due, lets one cycle run (doing
    /// <paramref name="during"/> meanwhile) until every tag has the new image, and pauses scheduling again.
    /// </summary>
    private async Task<(int Marked, string Changed)> RunOneCycleAsync(AppProcess app, string @namespace, Func<Task>? during = null)
    {
        var changed = await ImagePusher.PushImageAsync(_upstream, "team/app", "t0", seed: $"{@namespace}-new");
        await RetagAllAsync();
        // The import on tagging set each next check within the first interval (20 s ± 10 %): wait until all are due.
        var schedules = await Eventually.ReadAsync(() => app.Admin.GetFromJsonAsync<JsonElement>("/api/v1/schedules"),
            s => s.GetProperty("dueNow").GetInt32() == Tags, TimeSpan.FromSeconds(60));
        Assert.Equal(Tags, schedules.GetProperty("dueNow").GetInt32());
        var marked = _upstream.Requests.Count;
        await SettingsAsync(app, disabled: false);
        if (during is not null)
        {
            await during();
        }

        await Eventually.ReadAsync(() => UpdatedAsync(app, @namespace, changed.Digest), n => n == Tags, TimeSpan.FromSeconds(120));
        await SettingsAsync(app, disabled: true);
        return (marked, changed.Digest);
    }

    /// <summary>Points upstream tags t1… at what t0 points at (one after the other: docker-registry answers 500 to concurrent tag writes).</summary>
    private async Task RetagAllAsync()
    {
        for (var i = 1; i < Tags; i++)
        {
            await ImagePusher.RetagAsync(_upstream, "team/app", "t0", $"t{i}");
        }
    }

    private static async Task SettingsAsync(AppProcess app, bool disabled) =>
        (await app.Admin.PutAsJsonAsync("/api/v1/settings/import", new
        {
            defaultIntervalSeconds = 20,
            minimumIntervalSeconds = 1,
            maxImportsPerMinute = -1,
            tickSeconds = 1,
            disabled,
            registryConcurrency = 4,
            // About 40 checks a second per instance (a check is a HEAD, then a manifest and a config when it changed):
            // a cycle of 200 takes seconds, long enough to stop an instance in the middle of it.
            registryRequestsPerSecond = 40,
        })).EnsureSuccessStatusCode();

    /// <summary>How many tags point at <paramref name="digest"/> now (any image other than the first when null).</summary>
    private static async Task<int> UpdatedAsync(AppProcess app, string @namespace, string? digest)
    {
        var stream = await app.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/namespaces/{@namespace}/imagestreams/app");
        return stream.GetProperty("status").GetProperty("tags").EnumerateArray()
            .Count(t => t.GetProperty("items").GetArrayLength() > 0 && (digest is null
                ? t.GetProperty("items").GetArrayLength() > 1
                : t.GetProperty("items")[0].GetProperty("image").GetString() == digest));
    }

    /// <summary>Each tag's history is exactly the new image over the old one: nothing lost, nothing recorded twice.</summary>
    private static async Task AssertHistoriesAsync(AppProcess app, string @namespace, string changed)
    {
        var stream = await app.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/namespaces/{@namespace}/imagestreams/app");
        var tags = stream.GetProperty("status").GetProperty("tags").EnumerateArray().ToList();
        Assert.Equal(Tags, tags.Count);
        Assert.All(tags, t =>
        {
            var items = t.GetProperty("items");
            Assert.True(items.GetArrayLength() == 2, $"{t.GetProperty("tag")} has {items.GetArrayLength()} history entries");
            Assert.Equal(changed, items[0].GetProperty("image").GetString());
        });
    }

    /// <summary>The scheduled checks this instance finished since it started (its /metrics counters).</summary>
    private static async Task<int> ChecksAsync(AppProcess app)
    {
        var metrics = await app.Admin.GetStringAsync("/metrics");
        return System.Text.RegularExpressions.Regex.Matches(metrics, @"^dashboard_schedule_checks_total\{result=""[^""]+""\} (\d+)$",
            System.Text.RegularExpressions.RegexOptions.Multiline).Sum(m => int.Parse(m.Groups[1].Value));
    }

    private List<JsonElement> Delivered(string @namespace, string image) =>
        [.. _delivered.Where(e => Namespace(e) == @namespace && e.GetProperty("data").GetProperty("image").GetString() == image)];

    private static int DistinctTags(List<JsonElement> events) =>
        events.Select(e => e.GetProperty("data").GetProperty("tag").GetString()).Distinct().Count();

    private static string? Namespace(JsonElement e) => e.GetProperty("data").GetProperty("namespace").GetString();
}
