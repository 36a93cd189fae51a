using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dashboard.Domain;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Policy;
using Dashboard.Tests.Admission;
using Dashboard.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Policy;

/// <summary>
/// The per-rule summary above the admission decisions (<see cref="AdmissionDecisionLog.SummarizeAsync"/>), from reviews the
/// cluster's API server sends to the running app.
/// </summary>
public sealed class DecisionSummaryTests(DashboardFactory app) : IClassFixture<DashboardFactory>
{
    private const string Summary = "/api/v1/policy/decisions/summary";

    [Fact]
    public async Task The_summary_counts_per_rule_the_decisions_it_refused_warned_or_audited_and_their_namespaces_and_names_the_last()
    {
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[]
        {
            new { name = "sum-no-latest", tags = new[] { "latest" } },
            new { name = "sum-untrusted", registries = new[] { "untrusted.example.com" } },
            new { name = "sum-warn-dev", enforcement = "Warn", tags = new[] { "dev" } },
            new { name = "sum-audit-beta", enforcement = "Audit", tags = new[] { "beta" } },
        })).EnsureSuccessStatusCode();
        using var cluster = app.Cluster();

        Assert.False(await ReviewAsync(cluster, "sum-a", "one", "quay.io/org/app:latest"));
        Assert.False(await ReviewAsync(cluster, "sum-b", "two", "quay.io/org/app:latest", "untrusted.example.com/tool:1"));
        Assert.True(await ReviewAsync(cluster, "sum-b", "three", "quay.io/org/app:dev"));
        Assert.True(await ReviewAsync(cluster, "sum-c", "four", "quay.io/org/app:1", "quay.io/org/app:beta"));
        // Two images refused by one rule: one decision refused, counted once.
        Assert.False(await ReviewAsync(cluster, "sum-a", "five", "quay.io/org/app:latest", "quay.io/org/web:latest"));
        await KeptAsync(admin, "sum-a", "five");

        var summary = (await admin.GetFromJsonAsync<JsonElement>(Summary))!.EnumerateArray().ToList();

        var ours = summary.Select(r => r.GetProperty("rule").GetString()).Where(r => r!.StartsWith("sum-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["sum-no-latest", "sum-untrusted", "sum-warn-dev", "sum-audit-beta"], ours);
        Assert.Equal((3, 0, 0, 2, "sum-a", "Pod", "five"), Row(summary, "sum-no-latest"));
        Assert.Equal((1, 0, 0, 1, "sum-b", "Pod", "two"), Row(summary, "sum-untrusted"));
        Assert.Equal((0, 1, 0, 1, "sum-b", "Pod", "three"), Row(summary, "sum-warn-dev"));
        Assert.Equal((0, 0, 1, 1, "sum-c", "Pod", "four"), Row(summary, "sum-audit-beta"));
        Assert.Single((await admin.GetFromJsonAsync<JsonElement>($"{Summary}?top=1"))!.EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync($"{Summary}?hours=0")).StatusCode);
    }

    [Fact]
    public async Task The_summary_counts_only_the_window_asked_for_a_day_by_default()
    {
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[] { new { name = "window-no-old", tags = new[] { "old" } } }))
            .EnsureSuccessStatusCode();
        using var cluster = app.Cluster();
        Assert.False(await ReviewAsync(cluster, "window", "yesterday", "quay.io/org/app:old"));
        await KeptAsync(admin, "window", "yesterday");
        // The decision ages 25 hours, as if it had been answered yesterday.
        var yesterday = DateTime.UtcNow.AddHours(-25);
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync())
        {
            await db.AdmissionRecords.Where(r => r.Namespace == "window").ExecuteUpdateAsync(s => s.SetProperty(r => r.At, yesterday));
            await db.AdmissionRuleHits.Where(h => h.Namespace == "window").ExecuteUpdateAsync(s => s.SetProperty(h => h.At, yesterday));
        }

        Assert.False(await ReviewAsync(cluster, "window", "today", "quay.io/org/app:old"));
        await KeptAsync(admin, "window", "today");

        var day = (await admin.GetFromJsonAsync<JsonElement>(Summary))!.EnumerateArray().ToList();
        var twoDays = (await admin.GetFromJsonAsync<JsonElement>($"{Summary}?hours=48"))!.EnumerateArray().ToList();

        Assert.Equal((1, 0, 0, 1, "window", "Pod", "today"), Row(day, "window-no-old"));
        Assert.Equal((2, 0, 0, 1, "window", "Pod", "today"), Row(twoDays, "window-no-old"));

        // Retention prunes a decision's rule rows with it.
        Assert.Equal(1, await app.Services.GetRequiredService<AdmissionDecisionLog>().PruneAsync(TimeSpan.FromHours(24)));
        var afterPrune = (await admin.GetFromJsonAsync<JsonElement>($"{Summary}?hours=48"))!.EnumerateArray().ToList();
        Assert.Equal((1, 0, 0, 1, "window", "Pod", "today"), Row(afterPrune, "window-no-old"));
    }

    [Fact]
    public async Task Only_admins_read_the_summary()
    {
        await app.CreateNamespaceAsync("sum-members");
        await app.CreateUserAsync("sum-editor", "sum-members", "Editor");
        using var editor = app.As("sum-editor", DashboardFactory.UserPassword);

        Assert.Equal(HttpStatusCode.Forbidden, (await editor.GetAsync(Summary)).StatusCode);
        var admission = app.Services.GetRequiredService<AdmissionDecisionLog>();
        await Assert.ThrowsAsync<ForbiddenException>(async () => await admission.SummarizeAsync(await app.CallerAsync("sum-editor")));
    }

    /// <summary>Sends a Pod with one container per image, as the API server would; answers whether it was allowed.</summary>
    private static async Task<bool> ReviewAsync(HttpClient cluster, string @namespace, string name, params string[] images)
    {
        var containers = string.Join(",", images.Select((image, i) => $$"""{"name":"c{{i}}","image":"{{image}}"}"""));
        var review = AdmissionReviewTests.Review("Pod", $$$"""{"metadata":{"name":"{{{name}}}"},"spec":{"containers":[{{{containers}}}]}}""", group: "",
            @namespace: @namespace);
        var answer = await cluster.PostAsync("/admission/validate", new StringContent(review, Encoding.UTF8, "application/json"));
        answer.EnsureSuccessStatusCode();
        return (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("response").GetProperty("allowed").GetBoolean();
    }

    /// <summary>Waits until the batch writer has kept the decision about <paramref name="name"/> (and so every one before it).</summary>
    private static Task KeptAsync(HttpClient admin, string @namespace, string name) =>
        Eventually.ReadAsync(() => admin.GetFromJsonAsync<JsonElement>($"/api/v1/policy/decisions?namespace={@namespace}"),
            d => d.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("name").GetString() == name));

    private static (int Denials, int Warnings, int Audits, int Namespaces, string? LastNamespace, string? LastKind, string? LastName) Row(
        List<JsonElement> summary, string rule)
    {
        var row = summary.Single(r => r.GetProperty("rule").GetString() == rule);
        return (row.GetProperty("denials").GetInt32(), row.GetProperty("warnings").GetInt32(), row.GetProperty("audits").GetInt32(),
            row.GetProperty("namespaces").GetInt32(), row.GetProperty("lastNamespace").GetString(), row.GetProperty("lastKind").GetString(),
            row.GetProperty("lastName").GetString());
    }
}
