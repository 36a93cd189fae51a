using System.Diagnostics;
using Dashboard.Domain.Access;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Users;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Bench;

/// <summary>
/// How the console's server-side grid query (search, sort, page) scales from 1,000 to 10,000 streams on the embedded
/// SQLite database.
/// </summary>
internal static class ImageStreamListBenchmark
{
    private const int Repetitions = 30;

    public static async Task RunAsync()
    {
        var sizes = new[] { 1_000, 10_000 };
        var queries = new (string Name, Func<Caller, ImageStreamQuery> Query)[]
        {
            ("first page, namespace order", _ => new ImageStreamQuery()),
            ("search 'api'", _ => new ImageStreamQuery("api")),
            ("search 'ns-07/' (one namespace)", _ => new ImageStreamQuery("ns-07/")),
            ("sort by tag count, descending", _ => new ImageStreamQuery(SortBy: ImageStreamSort.Tags, Descending: true)),
            ("page 40 (skip 975)", _ => new ImageStreamQuery(Skip: 975)),
        };

        var results = new Dictionary<(int, string, bool), double>();
        foreach (var size in sizes)
        {
            var path = Path.Combine(Path.GetTempPath(), $"dashboard-bench-{size}-{Guid.NewGuid():N}.db");
            var services = new ServiceCollection().AddLogging().AddDashboardDomain(o => o.UseDashboardSqlite(path)).BuildServiceProvider();
            await services.MigrateDashboardDatabaseAsync();
            var seed = Stopwatch.StartNew();
            var memberId = await SeedAsync(services, size);
            Console.WriteLine($"{size,6} streams seeded in {seed.Elapsed.TotalSeconds:0.0} s");

            var streams = services.GetRequiredService<ImageStreamService>();
            foreach (var (admin, caller) in new[] { (true, Caller.System), (false, new Caller(memberId, "member", false)) })
            {
                foreach (var (name, query) in queries)
                {
                    await streams.QueryAsync(caller, query(caller)); // warm-up: compiled query and page cache
                    var times = new List<double>();
                    for (var i = 0; i < Repetitions; i++)
                    {
                        var watch = Stopwatch.StartNew();
                        var page = await streams.QueryAsync(caller, query(caller));
                        times.Add(watch.Elapsed.TotalMilliseconds);
                        if (page.Items.Count == 0 && !name.StartsWith("page"))
                        {
                            throw new InvalidOperationException($"'{name}' found nothing: the benchmark data is wrong");
                        }
                    }

                    times.Sort();
                    results[(size, name, admin)] = times[times.Count / 2];
                }
            }

            await services.DisposeAsync();
            SqliteConnection.ClearAllPools();
            foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*"))
            {
                File.Delete(file);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Median of {Repetitions} runs per query, milliseconds; ratio = 10,000 / 1,000 streams (same run).");
        Console.WriteLine($"| query | caller | 1,000 streams | 10,000 streams | ratio |");
        Console.WriteLine($"|---|---|---:|---:|---:|");
        foreach (var admin in new[] { true, false })
        {
            foreach (var (name, _) in queries)
            {
                var small = results[(1_000, name, admin)];
                var large = results[(10_000, name, admin)];
                Console.WriteLine($"| {name} | {(admin ? "admin" : "member of 10 of 20 namespaces")} | {small:0.00} | {large:0.00} | {large / small:0.0} |");
            }
        }
    }

    // 20 namespaces, streams spread over them with 0-4 spec tags; a member of every other namespace.
    private static async Task<string> SeedAsync(IServiceProvider services, int count)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync();
        var member = new DashboardUser { Id = Guid.NewGuid().ToString(), UserName = "member", NormalizedUserName = "MEMBER" };
        db.Users.Add(member);
        var namespaces = Enumerable.Range(0, 20).Select(i => new Namespace($"ns-{i:00}", DateTime.UtcNow)).ToList();
        db.Namespaces.AddRange(namespaces);
        await db.SaveChangesAsync();
        db.Memberships.AddRange(namespaces.Where((_, i) => i % 2 == 1).Select(n => new NamespaceMembership(n.Id, member.Id, NamespaceRole.Viewer)));
        string[] words = ["api", "web", "worker", "db", "cache", "gateway", "auth"];
        for (var i = 0; i < count; i++)
        {
            var stream = new ImageStream(namespaces[i % namespaces.Count], $"{words[i % words.Length]}-{i:00000}", null, null, DateTime.UtcNow.AddMinutes(-i));
            for (var t = 0; t < i % 5; t++)
            {
                stream.SetTag($"v{t}", new TagSource(TagSourceKind.DockerImage, $"quay.io/org/{words[i % words.Length]}:{t}"),
                    false, false, ImportMode.Legacy, ReferencePolicy.Source);
            }

            db.ImageStreams.Add(stream);
        }

        await db.SaveChangesAsync();
        return member.Id;
    }
}
