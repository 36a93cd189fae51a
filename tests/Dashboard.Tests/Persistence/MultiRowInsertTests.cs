using Dashboard.Domain.Persistence;
using Dashboard.Domain.Policy;
using Dashboard.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Persistence;

/// <summary>
/// The admission decision writer's multi-row INSERTs (<see cref="MultiRowInsert"/>), on the test run's provider: every row
/// reads back as EF wrote it before, and each rule hit hangs off its own decision, across several statements a batch.
/// </summary>
public sealed class MultiRowInsertTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create();
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton(TimeProvider.System);
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
