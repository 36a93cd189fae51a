using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Maintenance;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Policy;
using Dashboard.Domain.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Persistence;

/// <summary>The domain services on a real SQLite file, migrated the way the app migrates at start-up.</summary>
public sealed class DatabaseTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddLogging();
        services.AddDashboardDomain(options => _database.Configure(options));
        _services = services.BuildServiceProvider();
        await _services.MigrateDashboardDatabaseAsync();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Start_up_applies_every_migration_of_the_provider_and_on_sqlite_switches_the_file_to_write_ahead_logging()
    {
        await using var db = await _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync());
        if (TestDatabase.IsPostgreSql)
        {
            // The PostgreSQL set of its own assembly, not the SQLite one.
            Assert.True(db.Database.IsNpgsql());
            Assert.All(db.Database.GetMigrations(), m => Assert.DoesNotContain("ScheduleActivity", m));
        }
        else
        {
            var mode = await db.Database.SqlQueryRaw<string>("PRAGMA journal_mode").ToListAsync();
            Assert.Equal("wal", Assert.Single(mode));
        }
    }

    [Fact]
    public async Task Two_people_editing_the_same_stream_at_once_do_not_lose_a_change_silently()
    {
        var admin = Caller.System;
        var namespaces = _services.GetRequiredService<NamespaceService>();
        var streams = _services.GetRequiredService<ImageStreamService>();
        await namespaces.CreateAsync(admin, "race");
        await streams.CreateAsync(admin, "race", "app");

        var factory = _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>();
        await using var first = await factory.CreateDbContextAsync();
        await using var second = await factory.CreateDbContextAsync();
        var a = await first.ImageStreams.Include(s => s.Namespace).Include(s => s.SpecTags).SingleAsync(s => s.Name == "app");
        var b = await second.ImageStreams.Include(s => s.Namespace).Include(s => s.SpecTags).SingleAsync(s => s.Name == "app");
        a.SetTag("one", new TagSource(TagSourceKind.DockerImage, "docker.io/library/alpine:3"), false, false, ImportMode.Legacy, ReferencePolicy.Source);
        b.SetTag("two", new TagSource(TagSourceKind.DockerImage, "docker.io/library/alpine:3"), false, false, ImportMode.Legacy, ReferencePolicy.Source);
        await first.SaveChangesAsync();

        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => second.SaveChangesAsync());
    }

    [Fact]
    public async Task Pruning_deletes_expired_tokens_and_audit_entries_past_retention_only()
    {
        // Tokens belong to a user; Identity itself is the host's, so the row is written directly.
        var factory = _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>();
        var adminId = Guid.NewGuid().ToString();
        await using (var db = await factory.CreateDbContextAsync())
        {
            db.Users.Add(new DashboardUser { Id = adminId, UserName = "admin", NormalizedUserName = "ADMIN" });
            await db.SaveChangesAsync();
        }

        var caller = new Caller(adminId, "admin", true);
        var tokens = _services.GetRequiredService<AccessTokenService>();
        await tokens.CreateAsync(caller, "short", _clock.GetUtcNow().UtcDateTime.AddHours(1));
        await tokens.CreateAsync(caller, "forever", null);
        await _services.GetRequiredService<NamespaceService>().CreateAsync(caller, "old-news");

        _clock.Advance(TimeSpan.FromDays(40));
        await _services.GetRequiredService<NamespaceService>().CreateAsync(caller, "fresh-news");

        var result = await _services.GetRequiredService<Pruner>().PruneAsync(TimeSpan.FromDays(30));

        Assert.Equal(1, result.ExpiredTokens);
        Assert.Equal(["forever"], (await tokens.ListAsync(caller)).Select(t => t.Name));
        var remaining = await _services.GetRequiredService<AuditTrail>().QueryAsync(caller, new AuditQuery());
        Assert.Equal(["fresh-news"], remaining.Items.Select(e => e.Target));
    }

    /// <summary>
    /// The admission decision writer's multi-row INSERTs (<see cref="MultiRowInsert"/>): every row reads back as EF wrote it
    /// before, and each rule hit hangs off its own decision, across several statements a batch.
    /// </summary>
    [Fact]
    public async Task Decisions_written_in_large_batches_keep_their_values_and_each_rule_hit_stays_with_its_own_decision()
    {
        // Microseconds: what PostgreSQL keeps.
        var at = new DateTime(2026, 12, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234560);
        // More rows than one statement takes, so the keys of several statements are matched back to their rows.
        var records = Enumerable.Range(0, 2_000).Select(i => new AdmissionRecord
        {
            At = at.AddSeconds(i), Namespace = $"ns-{i % 7}", Operation = "CREATE", Kind = "Pod", Name = i % 5 == 0 ? null : $"pod-{i}",
            Resource = PolicyResources.Pods, Allowed = i % 2 == 0, Images = $"[\"image-{i}\"]", Violations = i % 2 == 0 ? null : $"refused {i}",
        }).ToList();

        var contexts = _services.GetRequiredService<IDbContextFactory<DashboardDbContext>>();
        await using (var db = await contexts.CreateDbContextAsync())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var ids = await db.InsertRowsAsync(records, returnKeys: true, default);
            var hits = records.Select((r, i) => new AdmissionRuleHit
            {
                AdmissionRecordId = ids[i], Rule = $"rule-{i}", Effect = (RuleEffect)(i % 3), At = r.At, Namespace = r.Namespace,
            }).ToList();
            await db.InsertRowsAsync(hits, returnKeys: false, default);
            await transaction.CommitAsync();
        }

        await using var read = await contexts.CreateDbContextAsync();
        var stored = await read.AdmissionRecords.AsNoTracking().Include(r => r.Hits).OrderBy(r => r.Id).ToListAsync();
        Assert.Equal(records.Count, stored.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var (expected, actual) = (records[i], stored[i]);
            Assert.Equal((expected.At, expected.Namespace, expected.Name, expected.Allowed, expected.Images, expected.Violations),
                (actual.At, actual.Namespace, actual.Name, actual.Allowed, actual.Images, actual.Violations));
            Assert.Equal(DateTimeKind.Utc, actual.At.Kind);
            var hit = Assert.Single(actual.Hits);
            Assert.Equal(($"rule-{i}", (RuleEffect)(i % 3), expected.At), (hit.Rule, hit.Effect, hit.At));
        }
    }
}
