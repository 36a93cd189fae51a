using System.Diagnostics;
using Dashboard.Domain.Access;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Scheduling;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Dashboard.Bench;

/// <summary>
/// 10,000 scheduled tags over 100 upstream repositories on Debian's docker-registry: 10 namespaces × 100 streams × 10
/// tags, stream j of every namespace following repository j, so each of the 1,000 upstream tags is followed by 10 stream
/// tags. Measures the tick (finding and leasing due tags), the requests a cycle sends, and a full cycle's time and CPU at
/// an unlimited rate with four workers (as Hangfire runs the check jobs), and the peak working set.
/// </summary>
internal static class ScheduleBenchmark
{
    private const int Namespaces = 10;
    private const int Repositories = 100;
    private const int TagsPerRepository = 10;
    private const int Workers = 4;

    public static async Task RunAsync()
    {
        await using var registry = await LocalRegistry.StartAsync();
        using (var pusher = new HttpClient { BaseAddress = new Uri($"http://{registry.Host}") })
        {
            for (var r = 0; r < Repositories; r++)
            {
                for (var t = 1; t <= TagsPerRepository; t++)
                {
                    await ImagePusher.PushImageAsync(pusher, $"bench/repo{r}", $"{t}", CancellationToken.None);
                }
            }
        }

        var path = Path.Combine(Path.GetTempPath(), $"dashboard-bench-schedule-{Guid.NewGuid():N}.db");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(clock)
            .AddSingleton<ISecretProtector, PassThroughProtector>()
            .Configure<RegistryOptions>(o => o.AllowLoopback = true)
            .Configure<ScheduleOptions>(o => (o.MaxImportsPerMinute, o.RegistryRequestsPerSecond, o.RegistryConcurrency) = (-1, 0, 16))
            .AddDashboardDomain(o => o.UseDashboardSqlite(path))
            .BuildServiceProvider();
        try
        {
            await services.MigrateDashboardDatabaseAsync();
            await SeedAsync(services, registry.Host, clock.GetUtcNow().UtcDateTime);
            var scheduler = services.GetRequiredService<ImportScheduler>();
            await registry.CheckpointAsync();

            var reconcile = Stopwatch.StartNew();
            Require((await scheduler.TickAsync()).Count == 0, "the first tick only creates schedules");
            reconcile.Stop();
            var idle = await TimeAsync(async () => Require((await scheduler.TickAsync()).Count == 0, "nothing is due yet"));

            clock.Advance(TimeSpan.FromMinutes(17));
            var cold = await CycleAsync(scheduler, registry);
            clock.Advance(TimeSpan.FromMinutes(17));
            var unchanged = await CycleAsync(scheduler, registry);
            // One request (or one manifest and one config) per distinct upstream tag, however many stream tags follow it:
            // more means the tags of a group stopped sharing what upstream answered.
            var upstreamTags = Repositories * TagsPerRepository;
            Require(cold.Requests == $"{upstreamTags} GET manifest, {upstreamTags} GET blob" || cold.Requests == $"{upstreamTags} GET blob, {upstreamTags} GET manifest",
                $"a cold cycle fetches one manifest and one config per upstream tag, not {cold.Requests}");
            // The rule README states: one HEAD per upstream tag; with trusted keys (none here) also a look for signatures when
            // the image changed or its last look is older than Dashboard:Signatures:RecheckMinutes, so not in this cycle.
            Require(unchanged.Requests == $"{upstreamTags} HEAD manifest",
                $"an unchanged cycle (no trusted keys, so no look for signatures) sends one HEAD per upstream tag, not {unchanged.Requests}");
            var peak = Process.GetCurrentProcess().PeakWorkingSet64;

            Console.WriteLine($"{Namespaces * Repositories * TagsPerRepository:N0} scheduled tags, {Repositories * TagsPerRepository:N0} distinct upstream tags "
                + $"in {Repositories} repositories; unlimited rate, {Workers} workers; SQLite file");
            Console.WriteLine();
            Console.WriteLine("| measure | cold cycle (first import) | unchanged cycle |");
            Console.WriteLine("|---|---|---|");
            Console.WriteLine($"| tick: find and lease 10,000 due tags (ms) | {cold.TickMs:0} | {unchanged.TickMs:0} |");
            Console.WriteLine($"| check groups (one per upstream tag) | {cold.Groups} | {unchanged.Groups} |");
            Console.WriteLine($"| registry requests | {cold.Requests} | {unchanged.Requests} |");
            Console.WriteLine($"| full cycle, wall (s) | {cold.WallSeconds:0.0} | {unchanged.WallSeconds:0.0} |");
            Console.WriteLine($"| full cycle, CPU (s) | {cold.CpuSeconds:0.0} | {unchanged.CpuSeconds:0.0} |");
            Console.WriteLine($"| tags checked per second | {cold.Checked / cold.WallSeconds:0} | {unchanged.Checked / unchanged.WallSeconds:0} |");
            Console.WriteLine();
            Console.WriteLine($"First tick (creates 10,000 schedules): {reconcile.ElapsedMilliseconds} ms; a tick with nothing due: {idle:0} ms.");
            Console.WriteLine($"Peak working set of the benchmark process: {peak / (1024 * 1024)} MiB.");
        }
        finally
        {
            await services.DisposeAsync();
            SqliteConnection.ClearAllPools();
            foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*"))
            {
                File.Delete(file);
            }
        }
    }

    private sealed record Cycle(double TickMs, int Groups, int Checked, string Requests, double WallSeconds, double CpuSeconds);

    private static async Task<Cycle> CycleAsync(ImportScheduler scheduler, LocalRegistry registry)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var tick = Stopwatch.StartNew();
        var checks = await scheduler.TickAsync();
        tick.Stop();
        await Parallel.ForEachAsync(checks, new ParallelOptions { MaxDegreeOfParallelism = Workers }, async (check, ct) => await scheduler.RunAsync(check, ct));
        wall.Stop();
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var log = await registry.CheckpointAsync();
        var requests = string.Join(", ", log.CountBy(e => e.Kind).OrderByDescending(k => k.Value).Select(k => $"{k.Value} {k.Key}"));
        return new Cycle(tick.Elapsed.TotalMilliseconds, checks.Count, checks.Sum(c => c.ScheduleIds.Length), requests, wall.Elapsed.TotalSeconds, used.TotalSeconds);
    }

    private static async Task SeedAsync(IServiceProvider services, string registryHost, DateTime now)
    {
        var contexts = services.GetRequiredService<IDbContextFactory<DashboardDbContext>>();
        for (var n = 0; n < Namespaces; n++)
        {
            await using var db = await contexts.CreateDbContextAsync();
            var ns = new Namespace($"team-{n}", now);
            db.Namespaces.Add(ns);
            for (var r = 0; r < Repositories; r++)
            {
                var stream = new ImageStream(ns, $"app-{r}", null, null, now);
                for (var t = 1; t <= TagsPerRepository; t++)
                {
                    stream.SetTag($"{t}", new TagSource(TagSourceKind.DockerImage, $"{registryHost}/bench/repo{r}:{t}"), scheduled: true, insecure: true,
                        ImportMode.PreserveOriginal, ReferencePolicy.Source);
                }

                db.ImageStreams.Add(stream);
            }

            await db.SaveChangesAsync();
        }
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var watch = Stopwatch.StartNew();
        await action();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Benchmark broke: {what}.");
        }
    }
}
