using System.Net;
using System.Text.Json;
using Dashboard.Domain.Proxy;
using Dashboard.Tests.Infrastructure;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dashboard.Tests;

/// <summary>The probes Kubernetes asks: liveness and readiness, the status for anyone, the detail for admins.</summary>
public sealed class HealthTests(DashboardFactory app) : IClassFixture<DashboardFactory>
{
    [Fact]
    public async Task Live_and_ready_answer_probes_with_the_status_only_and_admins_with_every_check()
    {
        using var probe = app.Anonymous();
        using var live = await probe.GetAsync("/healthz/live");
        Assert.Equal((HttpStatusCode.OK, "Healthy"), (live.StatusCode, await live.Content.ReadAsStringAsync()));
        var ready = await Eventually.ReadAsync(() => probe.GetAsync("/healthz/ready"), r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());

        using var admin = app.AsAdmin();
        var detail = JsonDocument.Parse(await admin.GetStringAsync("/healthz/ready")).RootElement.GetProperty("checks");
        foreach (var check in new[] { "database-reachable", "migrations", "job-server", "cache" })
        {
            Assert.Equal("Healthy", detail.GetProperty(check).GetProperty("status").GetString());
        }

        Assert.Contains("every migration applied", detail.GetProperty("migrations").GetProperty("Description").GetString());
    }

    [Fact]
    public async Task A_cache_directory_that_cannot_be_written_makes_the_instance_not_ready()
    {
        var root = Directory.CreateTempSubdirectory("dashboard-ready-").FullName;
        try
        {
            var cache = new BlobCache(root, new ProxyOptions(), NullLogger<BlobCache>.Instance);
            Directory.Delete(Path.Combine(root, "tmp"));
            await File.WriteAllTextAsync(Path.Combine(root, "tmp"), "a file where the cache's directory should be");

            var result = await new Dashboard.Hosting.HealthExtensions.CacheDirectoryCheck(cache).CheckHealthAsync(new HealthCheckContext(), default);

            Assert.Equal(HealthStatus.Unhealthy, result.Status);
            Assert.Contains("cannot be written", result.Description);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
