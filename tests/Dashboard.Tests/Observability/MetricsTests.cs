using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Scheduling;
using Dashboard.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Observability;

/// <summary>What an operator's Prometheus receives: every series the README documents at <c>/metrics</c>.</summary>
public sealed class MetricsTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    private RegistryServer _registry = null!;

    public async Task InitializeAsync() => _registry = await RegistryServer.StartAsync();

    public async Task DisposeAsync() => await _registry.DisposeAsync();

    [Fact]
    public async Task Metrics_serve_every_series_the_README_documents_once_a_scheduled_check_has_run()
    {
        await ImagePusher.PushImageAsync(_registry, "team/metered", "1");
        await app.CreateNamespaceAsync("metered", "app");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/metered/imagestreams/app/tags/1",
            new { from = $"{_registry.Host}/team/metered:1", insecure = true, scheduled = true })).EnsureSuccessStatusCode();
        // One scheduled check, as the tick's job runs it.
        long schedule;
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync())
        {
            schedule = await db.TagSchedules.Where(s => s.Tag == "1" && db.ImageStreams.Any(i => i.Id == s.ImageStreamId && i.Name == "app"
                && i.Namespace.Name == "metered")).Select(s => s.Id).SingleAsync();
        }

        await app.Services.GetRequiredService<ImportScheduler>().RunAsync(new ScheduledCheck($"{_registry.Host}/team/metered:1", [schedule]));

        var metrics = await admin.GetStringAsync("/metrics");

        var documented = DocumentedSeries();
        Assert.True(documented.Count >= 10, $"the README's metrics table was not found: {string.Join(", ", documented)}");
        var missing = documented.Where(name => !Regex.IsMatch(metrics, $"^{name}(_bucket)?({{[^}}]*}})? ", RegexOptions.Multiline)).ToList();
        Assert.True(missing.Count == 0, $"documented but not served: {string.Join(", ", missing)}\n{metrics}");
        Assert.Matches(@"(?m)^dashboard_schedule_checks_total\{result=""Unchanged""\} [1-9]", metrics);
        Assert.Matches(@"(?m)^dashboard_schedule_check_duration_seconds_count [1-9]", metrics);
        Assert.Matches(@"(?m)^dashboard_scheduled_tags [1-9]", metrics);
        // The platform's own meters come along: requests served, by route.
        Assert.Matches(@"(?m)^microsoft_aspnetcore_hosting_http_server_request_duration_count\{.*http_route=""/api/v1/namespaces/\{ns\}/imagestreams/\{name\}/tags/\{tag\}""", metrics);
    }

    /// <summary>The series names in the README's metrics table (section "Observability"), except those present only while something is so.</summary>
    private static List<string> DocumentedSeries()
    {
        var readme = File.ReadAllText(Path.Combine(AppProcess.RepositoryRoot(), "README.md"));
        var section = readme[readme.IndexOf("## Observability", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 5, StringComparison.Ordinal)];
        return [.. Regex.Matches(section, @"^\| `(dashboard_[a-z_]+)` \|(?<rest>.*)$", RegexOptions.Multiline)
            .Where(row => !row.Groups["rest"].Value.Contains("only while", StringComparison.Ordinal))
            .Select(row => row.Groups[1].Value)];
    }
}
