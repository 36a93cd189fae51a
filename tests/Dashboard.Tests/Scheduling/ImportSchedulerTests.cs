using Dashboard.Domain.Access;
using Dashboard.Domain.Import;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Scheduling;
using Dashboard.Domain.Signatures;
using Dashboard.Domain.Triggers;
using Dashboard.Hosting;
using Dashboard.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Dashboard.Tests.Scheduling;

/// <summary>The scheduler's tick and checks on a real SQLite file against a real registry, with a fake clock.</summary>
public sealed class ImportSchedulerTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private ServiceProvider _services = null!;
    private RegistryServer _registry = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddLogging();
        services.AddDashboardDomain(options => _database.Configure(options));
        // No retries: their back-off waits on the fake clock, which only the test moves.
        services.Configure<RegistryOptions>(o => (o.AllowLoopback, o.MaxRetries) = (true, 0));
        services.Configure<ScheduleOptions>(o => o.MaxImportsPerMinute = -1);
        services.AddSingleton<IDataProtectionProvider>(new EphemeralDataProtectionProvider());
        services.AddSingleton<ISecretProtector, DataProtectionSecretProtector>();
        _services = services.BuildServiceProvider();
        await _services.MigrateDashboardDatabaseAsync();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _registry.DisposeAsync();
        await _database.DisposeAsync();
    }

    private async Task ScheduleAsync(string stream, string from)
    {
        var streams = _services.GetRequiredService<ImageStreamService>();
        await streams.CreateAsync(Caller.System, "sched", stream);
        await streams.SetTagAsync(Caller.System, "sched", stream, new TagSpec("1", TagSourceKind.DockerImage, from, Scheduled: true, Insecure: true));
    }

    private async Task<IReadOnlyList<string>> HistoryAsync(string stream) =>
        [.. (await _services.GetRequiredService<ImageStreamService>().GetAsync(Caller.System, "sched", stream)).Stream.HistoryOf("1").Select(e => e.Image)];

    /// <summary>Ticks after the clock passed every tag's due time, and runs what the tick queued, as the Hangfire jobs do.</summary>
    private async Task<IReadOnlyList<ScheduledCheck>> CycleAsync()
    {
        _clock.Advance(TimeSpan.FromMinutes(17));
        var scheduler = _services.GetRequiredService<ImportScheduler>();
        var checks = await scheduler.TickAsync();
        foreach (var check in checks)
        {
            await scheduler.RunAsync(check);
        }

        return checks;
    }

    [Fact]
    public async Task The_imports_per_minute_budget_is_one_for_every_instance_on_the_database()
    {
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        var settings = _services.GetRequiredService<ScheduleSettings>();
        var wanted = settings.Edit();
        wanted.MaxImportsPerMinute = 2;
        await settings.UpdateAsync(Caller.System, wanted);
        foreach (var stream in new[] { "a", "b", "c", "d" })
        {
            // Each follows its own upstream tag, so each due tag is a check of its own.
            await ScheduleAsync(stream, $"{_registry.Host}/team/{stream}:1");
        }

        // A second instance: its own services (its own scheduler, settings and caches) on the same database and clock.
        var other = new ServiceCollection()
            .AddSingleton<TimeProvider>(_clock)
            .AddLogging()
            .AddDashboardDomain(options => _database.Configure(options))
            .Configure<RegistryOptions>(o => (o.AllowLoopback, o.MaxRetries) = (true, 0))
            .AddSingleton<IDataProtectionProvider>(new EphemeralDataProtectionProvider())
            .AddSingleton<ISecretProtector, DataProtectionSecretProtector>()
            .BuildServiceProvider();
        await using (other)
        {
            await _services.GetRequiredService<ImportScheduler>().TickAsync();
            _clock.Advance(TimeSpan.FromMinutes(17));

            var first = await _services.GetRequiredService<ImportScheduler>().TickAsync();
            Assert.Equal(2, first.Sum(c => c.ScheduleIds.Length));
            // The next tick runs on the other instance: the minute's budget is spent there too.
            Assert.Empty(await other.GetRequiredService<ImportScheduler>().TickAsync());
            _clock.Advance(TimeSpan.FromMinutes(1));
            var second = await other.GetRequiredService<ImportScheduler>().TickAsync();
            Assert.Equal(2, second.Sum(c => c.ScheduleIds.Length));
            Assert.Empty(first.SelectMany(c => c.ScheduleIds).Intersect(second.SelectMany(c => c.ScheduleIds)));
        }
    }

    [Fact]
    public async Task Scheduled_tags_that_share_an_upstream_are_checked_with_one_head_and_follow_a_new_image()
    {
        var first = await ImagePusher.PushImageAsync(_registry, "team/app", "1", seed: "one");
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        var from = $"{_registry.Host}/team/app:1";
        await ScheduleAsync("a", from);
        await ScheduleAsync("b", from);

        Assert.Empty(await _services.GetRequiredService<ImportScheduler>().TickAsync());
        var checks = await CycleAsync();
        var group = Assert.Single(checks);
        Assert.Equal(2, group.ScheduleIds.Length);
        Assert.Equal([first.Digest], await HistoryAsync("a"));
        Assert.Equal([first.Digest], await HistoryAsync("b"));

        var registry = _services.GetRequiredService<RegistryClient>();
        var before = registry.RequestCount;
        await CycleAsync();
        // An unchanged cycle: one HEAD per upstream tag (no trusted keys here, so no signatures to look for; with keys, see
        // An_unchanged_cycle_costs_one_head_and_looks_for_new_signatures_at_most_every_recheck_interval).
        Assert.Equal(1, registry.RequestCount - before);
        Assert.Single(await HistoryAsync("a"));

        var second = await ImagePusher.PushImageAsync(_registry, "team/app", "1", seed: "two");
        before = registry.RequestCount;
        await CycleAsync();
        // One HEAD, one manifest and one config for both tags: the second is answered with what the first fetched.
        Assert.Equal(3, registry.RequestCount - before);
        Assert.Equal([second.Digest, first.Digest], await HistoryAsync("a"));
        Assert.Equal([second.Digest, first.Digest], await HistoryAsync("b"));

        var overview = await _services.GetRequiredService<ScheduleQueries>().QueryAsync(Caller.System, new ScheduleQuery());
        Assert.Equal(2, overview.Scheduled);
        Assert.All(overview.Items, row => Assert.Equal("Imported", row.LastResult));
        Assert.All(overview.Items, row => Assert.Equal(900, row.IntervalSeconds));
        Assert.Equal(["sched/a:1", "sched/b:1"], overview.Items.Select(r => $"{r.Namespace}/{r.Stream}:{r.Tag}").Order());
        // Three cycles of two tags; the first and the last brought changes.
        Assert.Equal(new CheckTotals(6, 0, 4), overview.LastHour);
        Assert.Equal(6, _services.GetRequiredService<ScheduleActivity>().ChecksByResult.Values.Sum());
    }

    /// <summary>
    /// The rule README states: an unchanged cycle costs one HEAD per upstream tag; with trusted keys, an image is also
    /// looked at for signatures when it changed, and otherwise at most every Dashboard:Signatures:RecheckMinutes (60) per
    /// upstream tag, so a signature added after the import (a scanner signing later) is found without re-importing.
    /// </summary>
    [Fact]
    public async Task An_unchanged_cycle_costs_one_head_and_looks_for_new_signatures_at_most_every_recheck_interval()
    {
        using var signer = await CosignSigner.CreateAsync();
        await _services.GetRequiredService<TrustedKeyStore>().PutAsync(Caller.System, "scanner", signer.PublicKeyPem, null);
        var pushed = await ImagePusher.PushImageAsync(_registry, "team/later", "1");
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        var from = $"{_registry.Host}/team/later:1";
        await ScheduleAsync("a", from);
        await ScheduleAsync("b", from);
        await _services.GetRequiredService<ImportScheduler>().TickAsync();
        var registry = _services.GetRequiredService<RegistryClient>();

        // Minute 17: imported. The first contact probes the registry's scheme; then manifest, config, and the look for signatures
        // (referrers: 404, the .sig tag: 404).
        var before = registry.RequestCount;
        await CycleAsync();
        Assert.Equal(5, registry.RequestCount - before);
        Assert.Empty(await VerifiedKeysAsync(pushed.Digest));

        await signer.SignAndPushAsync(_registry, "team/later", pushed.Digest);
        // Minutes 34, 51 and 68: within the hour since the look, one HEAD for both tags and nothing more.
        foreach (var _ in Enumerable.Range(0, 3))
        {
            before = registry.RequestCount;
            await CycleAsync();
            Assert.Equal(1, registry.RequestCount - before);
        }

        Assert.Empty(await VerifiedKeysAsync(pushed.Digest));

        // Minute 85: the look is over an hour old. HEAD, referrers (asked again an hour after its 404), the .sig tag, the payload.
        before = registry.RequestCount;
        await CycleAsync();
        Assert.Equal(4, registry.RequestCount - before);
        Assert.Equal(["scanner"], await VerifiedKeysAsync(pushed.Digest));
        Assert.Single(await HistoryAsync("a"));

        before = registry.RequestCount;
        await CycleAsync();
        Assert.Equal(1, registry.RequestCount - before);
    }

    [Fact]
    public async Task The_platform_images_of_an_unchanged_list_are_looked_at_again_with_it()
    {
        using var signer = await CosignSigner.CreateAsync();
        await _services.GetRequiredService<TrustedKeyStore>().PutAsync(Caller.System, "scanner", signer.PublicKeyPem, null);
        var (index, amd64, _) = await ImagePusher.PushIndexAsync(_registry, "team/multi", "1");
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        await ScheduleAsync("list", $"{_registry.Host}/team/multi:1");
        await _services.GetRequiredService<ImportScheduler>().TickAsync();
        await CycleAsync();
        Assert.Equal([index.Digest], await HistoryAsync("list"));

        await signer.SignAndPushAsync(_registry, "team/multi", amd64.Digest);
        for (var cycle = 0; cycle < 4; cycle++)
        {
            await CycleAsync();
        }

        Assert.Equal(["scanner"], await VerifiedKeysAsync(amd64.Digest));
        Assert.Single(await HistoryAsync("list"));
    }

    private async Task<IReadOnlyList<string>> VerifiedKeysAsync(string digest)
    {
        await using var db = await _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync();
        return await db.ImageSignatures.Where(s => s.Digest == digest).Select(s => s.VerifiedKeys).FirstOrDefaultAsync() ?? [];
    }

    [Fact]
    public async Task Tags_that_share_an_upstream_share_no_answers_across_credentials()
    {
        await using var locked = await RegistryServer.StartAsync(RegistryAuth.Basic);
        var pushed = await ImagePusher.PushImageAsync(locked, "team/private", "1");
        var namespaces = _services.GetRequiredService<NamespaceService>();
        var streams = _services.GetRequiredService<ImageStreamService>();
        foreach (var ns in new[] { "with-secret", "without" })
        {
            await namespaces.CreateAsync(Caller.System, ns);
            await streams.CreateAsync(Caller.System, ns, "app");
            await streams.SetTagAsync(Caller.System, ns, "app",
                new TagSpec("1", TagSourceKind.DockerImage, $"{locked.Host}/team/private:1", Scheduled: true, Insecure: true));
        }

        await _services.GetRequiredService<PullSecretService>().PutLoginAsync(Caller.System, "with-secret", "login", locked.Host,
            RegistryServer.User, RegistryServer.Password);
        var scheduler = _services.GetRequiredService<ImportScheduler>();
        await scheduler.TickAsync();
        _clock.Advance(TimeSpan.FromMinutes(17));
        var group = Assert.Single(await scheduler.TickAsync());
        Assert.Equal(2, group.ScheduleIds.Length);
        // The namespace with the secret goes first, so its answers are there to be (wrongly) shared.
        await using (var db = await _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync())
        {
            var first = await db.TagSchedules.Where(s => db.ImageStreams.Any(i => i.Id == s.ImageStreamId && i.Namespace.Name == "with-secret"))
                .Select(s => s.Id).SingleAsync();
            await scheduler.RunAsync(group with { ScheduleIds = [first, .. group.ScheduleIds.Where(id => id != first)] });
        }

        // One group, but the namespace without a pull secret is not answered with what the other's secret fetched.
        Assert.Equal([pushed.Digest], (await streams.GetAsync(Caller.System, "with-secret", "app")).Stream.HistoryOf("1").Select(e => e.Image));
        Assert.Empty((await streams.GetAsync(Caller.System, "without", "app")).Stream.HistoryOf("1"));
        var overview = await _services.GetRequiredService<ScheduleQueries>().QueryAsync(Caller.System, new ScheduleQuery(FailingOnly: true));
        Assert.Equal("without", Assert.Single(overview.Items).Namespace);
    }

    [Fact]
    public async Task A_check_job_that_died_is_taken_again_after_its_lease_and_a_rerun_adds_no_second_history_entry()
    {
        var pushed = await ImagePusher.PushImageAsync(_registry, "team/crash", "1");
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        await ScheduleAsync("e", $"{_registry.Host}/team/crash:1");
        var scheduler = _services.GetRequiredService<ImportScheduler>();
        await scheduler.TickAsync();
        _clock.Advance(TimeSpan.FromMinutes(17));
        var leased = Assert.Single(await scheduler.TickAsync());

        // The process died before the job ran: the tag stays leased for a while, then a later tick takes it again.
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Empty(await scheduler.TickAsync());
        _clock.Advance(TimeSpan.FromSeconds(new ScheduleOptions().LeaseSeconds));
        var retaken = Assert.Single(await scheduler.TickAsync());
        Assert.Equal(leased.ScheduleIds, retaken.ScheduleIds);

        // The job ran after all and so does its retake: the same digest is one history entry, one event.
        await scheduler.RunAsync(leased, jobId: "41");
        await scheduler.RunAsync(retaken, jobId: "42");
        Assert.Equal([pushed.Digest], await HistoryAsync("e"));
        await using var db = await _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync();
        Assert.Single(await db.ChangeEvents.ToListAsync());
        Assert.Equal("42", (await db.TagSchedules.SingleAsync()).LastJobId);
    }

    [Fact]
    public async Task Changes_of_a_tag_within_the_coalescing_window_make_one_event_from_the_first_image_to_the_last()
    {
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        await ScheduleAsync("f", $"{_registry.Host}/team/busy:1");
        var importer = _services.GetRequiredService<ImageImporter>();
        var first = await ImagePusher.PushImageAsync(_registry, "team/busy", "1", seed: "one");
        await importer.ImportTagAsync(Caller.System, "sched", "f", "1");
        var second = await ImagePusher.PushImageAsync(_registry, "team/busy", "1", seed: "two");
        _clock.Advance(TimeSpan.FromSeconds(10));
        await importer.ImportTagAsync(Caller.System, "sched", "f", "1");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var third = await ImagePusher.PushImageAsync(_registry, "team/busy", "1", seed: "three");
        await importer.ImportTagAsync(Caller.System, "sched", "f", "1");

        Assert.Equal([third.Digest, second.Digest, first.Digest], await HistoryAsync("f"));
        await using var db = await _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync();
        var events = await db.ChangeEvents.OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(2, events.Count);
        Assert.Equal((null, second.Digest), (events[0].PreviousImage, events[0].Image));
        Assert.Equal((second.Digest, third.Digest), (events[1].PreviousImage, events[1].Image));
        Assert.True(events[1].Generation > events[0].Generation);
    }

    [Fact]
    public async Task An_event_whose_delivery_job_was_lost_is_found_by_the_sweep_once_it_is_old_enough()
    {
        await ImagePusher.PushImageAsync(_registry, "team/lost", "1");
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        await ScheduleAsync("g", $"{_registry.Host}/team/lost:1");
        var webhooks = _services.GetRequiredService<WebhookService>();
        await webhooks.PutAsync(Caller.System, "sched", "ci", "http://127.0.0.1:9/hook", "a-secret-of-enough-length", null, "1*");
        await webhooks.PutAsync(Caller.System, "sched", "other", "http://127.0.0.1:9/hook", "a-secret-of-enough-length", null, "2*");
        // This test's notifier queues nothing: as if the process died before queueing the delivery.
        await _services.GetRequiredService<ImageImporter>().ImportTagAsync(Caller.System, "sched", "g", "1");

        Assert.Empty(await webhooks.UnattemptedAsync(TimeSpan.FromMinutes(10)));
        _clock.Advance(TimeSpan.FromMinutes(11));
        var lost = Assert.Single(await webhooks.UnattemptedAsync(TimeSpan.FromMinutes(10)));

        Assert.False(await webhooks.DeliverAsync(lost));
        Assert.Empty(await webhooks.UnattemptedAsync(TimeSpan.FromMinutes(10)));
    }

    [Fact]
    public async Task A_rate_limited_registry_is_paused_while_another_registrys_tags_are_still_checked()
    {
        // A stand-in for a registry that answers 429 (docker-registry cannot be made to): only that answer is faked.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var throttled = builder.Build();
        throttled.MapFallback((HttpContext context) =>
        {
            context.Response.StatusCode = 429;
            context.Response.Headers.RetryAfter = "3600";
            return Task.CompletedTask;
        });
        await throttled.StartAsync();
        var host = new Uri(throttled.Urls.First()).Authority;

        await ImagePusher.PushImageAsync(_registry, "team/fine", "1");
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        await ScheduleAsync("throttled", $"{host}/team/busy:1");
        await ScheduleAsync("fine", $"{_registry.Host}/team/fine:1");
        await _services.GetRequiredService<ImportScheduler>().TickAsync();
        await CycleAsync();
        Assert.NotNull(_services.GetRequiredService<RegistryPauses>().PausedUntil(host));

        _clock.Advance(TimeSpan.FromMinutes(20));
        var checks = await CycleAsync();

        Assert.Equal([$"{_registry.Host}/team/fine:1 (insecure)"], checks.Select(c => c.Upstream));
        await using var db = await _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync();
        var waiting = await db.TagSchedules.SingleAsync(s => s.LastResult == "RateLimited");
        Assert.Null(waiting.LeasedUntil);
        Assert.True(waiting.NextCheckAt <= _clock.GetUtcNow().UtcDateTime);
    }

    [Fact]
    public async Task A_failing_tag_backs_off_says_why_and_recovers()
    {
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        await ScheduleAsync("c", $"{_registry.Host}/team/missing:1");
        await _services.GetRequiredService<ImportScheduler>().TickAsync();
        await CycleAsync();

        await using (var db = await _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync())
        {
            var schedule = await db.TagSchedules.SingleAsync();
            Assert.Equal("NotFound", schedule.LastResult);
            Assert.Equal(1, schedule.ConsecutiveFailures);
            // Doubled after one failure: 30 minutes ± 10%.
            Assert.InRange(schedule.NextCheckAt - schedule.LastCheckAt!.Value, TimeSpan.FromMinutes(27), TimeSpan.FromMinutes(33));
        }

        var pushed = await ImagePusher.PushImageAsync(_registry, "team/missing", "1");
        _clock.Advance(TimeSpan.FromMinutes(20));
        await CycleAsync();
        Assert.Equal([pushed.Digest], await HistoryAsync("c"));
        await using (var db = await _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync())
        {
            Assert.Equal(0, (await db.TagSchedules.SingleAsync()).ConsecutiveFailures);
        }
    }

    [Fact]
    public async Task A_stopped_registry_makes_the_tag_unreachable_and_backed_off_and_it_recovers_when_the_registry_returns()
    {
        await using var flaky = await RegistryServer.StartAsync();
        var first = await ImagePusher.PushImageAsync(flaky, "team/flaky", "1", seed: "one");
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        await ScheduleAsync("h", $"{flaky.Host}/team/flaky:1");
        await _services.GetRequiredService<ImportScheduler>().TickAsync();
        await CycleAsync();
        Assert.Equal([first.Digest], await HistoryAsync("h"));

        await flaky.StopAsync();
        await CycleAsync();
        var factory = _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            var schedule = await db.TagSchedules.SingleAsync();
            Assert.Equal("Unreachable", schedule.LastResult);
            Assert.Contains(flaky.Host, schedule.LastMessage);
            Assert.Equal(1, schedule.ConsecutiveFailures);
            Assert.InRange(schedule.NextCheckAt - schedule.LastCheckAt!.Value, TimeSpan.FromMinutes(27), TimeSpan.FromMinutes(33));
        }

        // The tag keeps its image while its registry is away.
        Assert.Equal([first.Digest], await HistoryAsync("h"));
        var condition = (await _services.GetRequiredService<ImageStreamService>().GetAsync(Caller.System, "sched", "h")).Stream.Conditions.Single();
        Assert.Equal("Unreachable", condition.Reason);

        await flaky.RestartAsync();
        var second = await ImagePusher.PushImageAsync(flaky, "team/flaky", "1", seed: "two");
        _clock.Advance(TimeSpan.FromMinutes(20));
        await CycleAsync();
        Assert.Equal([second.Digest, first.Digest], await HistoryAsync("h"));
        await using (var db = await factory.CreateDbContextAsync())
        {
            Assert.Equal(0, (await db.TagSchedules.SingleAsync()).ConsecutiveFailures);
        }
    }

    [Fact]
    public async Task A_manual_import_moves_the_next_check_an_interval_later_and_unscheduling_drops_the_schedule()
    {
        await ImagePusher.PushImageAsync(_registry, "team/manual", "1");
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        await ScheduleAsync("d", $"{_registry.Host}/team/manual:1");
        await _services.GetRequiredService<ImportScheduler>().TickAsync();

        await _services.GetRequiredService<ImageImporter>().ImportTagAsync(Caller.System, "sched", "d", "1");

        var factory = _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
        {
            var schedule = await db.TagSchedules.SingleAsync();
            Assert.InRange(schedule.NextCheckAt - _clock.GetUtcNow().UtcDateTime, TimeSpan.FromMinutes(13.5), TimeSpan.FromMinutes(16.5));
            Assert.Equal("Imported", schedule.LastResult);
            Assert.Null(schedule.LastJobId);
        }

        await _services.GetRequiredService<ImageStreamService>().SetTagAsync(Caller.System, "sched", "d",
            new TagSpec("1", TagSourceKind.DockerImage, $"{_registry.Host}/team/manual:1", Scheduled: false, Insecure: true));
        await _services.GetRequiredService<ImportScheduler>().TickAsync();
        await using (var db = await factory.CreateDbContextAsync())
        {
            Assert.Empty(await db.TagSchedules.ToListAsync());
        }
    }

    [Fact]
    public async Task The_import_at_set_time_is_the_tags_first_check_and_a_failure_there_counts_as_failing()
    {
        await _services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "sched");
        // Set and imported at once, as the tag dialog's "Save and import" and the tag API do; no tick in between.
        await ScheduleAsync("e", $"{_registry.Host}/team/absent:1");
        var outcome = await _services.GetRequiredService<ImageImporter>().ImportTagAsync(Caller.System, "sched", "e", "1");
        Assert.Equal("NotFound", outcome.Reason);

        await using var db = await _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync();
        var schedule = await db.TagSchedules.SingleAsync();
        Assert.Equal(_clock.GetUtcNow().UtcDateTime, schedule.LastCheckAt);
        Assert.Equal("NotFound", schedule.LastResult);
        Assert.Equal(1, schedule.ConsecutiveFailures);
        // Backed off like a scheduled check that failed: 30 minutes ± 10%.
        Assert.InRange(schedule.NextCheckAt - schedule.LastCheckAt!.Value, TimeSpan.FromMinutes(27), TimeSpan.FromMinutes(33));
    }
}
