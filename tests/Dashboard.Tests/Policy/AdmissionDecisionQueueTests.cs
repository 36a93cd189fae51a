using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dashboard.Domain.Persistence;
using Dashboard.Tests.Admission;
using Dashboard.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Policy;

/// <summary>
/// The bounded queue between admission's answers and the database (<see cref="Dashboard.Domain.Policy.AdmissionDecisionQueue"/>):
/// when the database holds the writer up, decisions past the queue's capacity are not kept, the answers are not affected,
/// and <c>/metrics</c> counts every decision missing from the decisions page.
/// </summary>
public sealed class AdmissionDecisionQueueTests : IAsyncLifetime
{
    private readonly DashboardFactory _app = new()
    {
        Configure = builder => builder.UseSetting("Dashboard:Admission:DecisionQueueCapacity", "1"),
    };

    public Task InitializeAsync() => _app.InitializeAsync();

    public Task DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task A_full_queue_drops_decisions_never_answers_and_metrics_count_each_one_not_kept()
    {
        const int reviews = 10;
        using var admin = _app.AsAdmin();
        using var cluster = _app.Cluster();
        var contexts = _app.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>();
        Assert.Equal(0, Dropped(await admin.GetStringAsync("/metrics")));

        await using (var blocker = await contexts.CreateDbContextAsync())
        {
            // Another writer holds the table: the batch writer waits in its save, and the queue (capacity 1) fills up.
            await using var transaction = await blocker.Database.BeginTransactionAsync();
            await blocker.Database.ExecuteSqlRawAsync(blocker.Database.IsNpgsql()
                ? """LOCK TABLE "AdmissionRecords" IN EXCLUSIVE MODE"""
                : """DELETE FROM "AdmissionRecords" WHERE 0 = 1""");
            for (var i = 0; i < reviews; i++)
            {
                var review = AdmissionReviewTests.Review("Pod", $$$"""{"metadata":{"name":"queued-{{{i}}}"},"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}}""",
                    group: "", @namespace: "queued");
                var answer = await cluster.PostAsync("/admission/validate", new StringContent(review, Encoding.UTF8, "application/json"));
                Assert.True((await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("response").GetProperty("allowed").GetBoolean());
            }

            await transaction.RollbackAsync();
        }

        // Once the table is free the writer saves what it held; every decision is then either kept or counted.
        var kept = 0;
        var metrics = await Eventually.ReadAsync(async () =>
        {
            await using var db = await contexts.CreateDbContextAsync();
            kept = await db.AdmissionRecords.CountAsync(r => r.Namespace == "queued");
            return await admin.GetStringAsync("/metrics");
        }, text => kept + Dropped(text) == reviews);

        Assert.True(reviews == kept + Dropped(metrics), $"{kept} kept and {Dropped(metrics)} counted dropped of {reviews}");
        // At most the writer's stuck batch (one decision, two if one arrived while it read) and the queue's one are kept.
        Assert.InRange(Dropped(metrics), reviews - 3, reviews);
        Assert.Matches(@"(?m)^dashboard_admission_decisions_dropped_total\{reason=""write_failed""\} 0$", metrics);
        Assert.Matches($@"(?m)^dashboard_admission_reviews_total\{{allowed=""true""\}} {reviews}$", metrics);
        Assert.Matches(@"(?m)^dashboard_admission_reviews_total\{allowed=""false""\} 0$", metrics);
    }

    private static long Dropped(string metrics) =>
        long.Parse(Regex.Match(metrics, @"(?m)^dashboard_admission_decisions_dropped_total\{reason=""queue_full""\} (\d+)$").Groups[1].Value);
}
