using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Dashboard.Bench;

/// <summary>
/// Scheduled-import throughput of the real app (Release build, processes of their own) with one instance on SQLite, one
/// instance on PostgreSQL and two instances on one PostgreSQL database, in one run against one local docker-registry.
/// Each configuration gets 500 scheduled tags, each following its own upstream tag; every upstream tag then moves to a
/// new image, every schedule is made due, and the clock runs from switching scheduling on until every tag shows its new
/// image (a HEAD, a manifest and a config per tag, a new history entry, a change event). PostgreSQL is a throwaway
/// cluster started with scripts/postgres.sh.
/// </summary>
internal static class InstancesBenchmark
{
    private const int Tags = 500;

    public static async Task RunAsync()
    {
        await using var registry = await LocalRegistry.StartAsync();
        var clusterDirectory = Path.Combine(Path.GetTempPath(), $"dashboard-bench-postgres-{Guid.NewGuid():N}");
        var server = await StartPostgresAsync(clusterDirectory);
        try
        {
            Console.WriteLine($"{Tags} scheduled tags, each following its own upstream tag on docker-registry; one cycle in which every tag changed.");
            Console.WriteLine("Unlimited rate (MaxImportsPerMinute -1, no per-registry pacing, 16 requests in flight per instance).");
            Console.WriteLine();
            Console.WriteLine("| configuration | cycle seconds | tags/s | ratio to one SQLite instance |");
            Console.WriteLine("|---|---:|---:|---:|");
            var sqlite = await CycleAsync(registry, "sqlite", null, 1);
            Print("one instance, SQLite", sqlite, sqlite);
            var one = await CycleAsync(registry, "pg1", await CreateDatabaseAsync(server, "bench_one"), 1);
            Print("one instance, PostgreSQL", one, sqlite);
            var two = await CycleAsync(registry, "pg2", await CreateDatabaseAsync(server, "bench_two"), 2);
            Print("two instances, one PostgreSQL database", two, sqlite);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await RunScriptAsync("stop", clusterDirectory);
        }
    }

    private static void Print(string name, TimeSpan cycle, TimeSpan baseline) =>
        Console.WriteLine($"| {name} | {cycle.TotalSeconds:F1} | {Tags / cycle.TotalSeconds:F0} | {baseline.TotalSeconds / cycle.TotalSeconds:F2} |");

    private static async Task<TimeSpan> CycleAsync(LocalRegistry registry, string name, string? postgres, int instances)
    {
        using var pusher = new HttpClient { BaseAddress = new Uri($"http://{registry.Host}") };
        for (var i = 0; i < Tags; i++)
        {
            await ImagePusher.PushImageAsync(pusher, $"bench/{name}", $"t{i}", CancellationToken.None);
        }

        var settings = new Dictionary<string, string>
        {
            ["Dashboard__Registries__AllowLoopback"] = "true",
            ["Dashboard__Import__TickSeconds"] = "1",
            ["Dashboard__Import__Disabled"] = "true",
            ["Dashboard__Import__MaxImportsPerMinute"] = "-1",
            ["Dashboard__Import__RegistryRequestsPerSecond"] = "0",
            ["Dashboard__Import__RegistryConcurrency"] = "16",
            ["Dashboard__Import__DefaultIntervalSeconds"] = "3600",
            ["Dashboard__Import__MinimumIntervalSeconds"] = "60",
        };
        if (postgres is not null)
        {
            (settings["Dashboard__Database__Provider"], settings["ConnectionStrings__Dashboard"]) = ("PostgreSQL", postgres);
        }

        var apps = new List<AppProcess>();
        try
        {
            for (var i = 0; i < instances; i++)
            {
                apps.Add(await AppProcess.StartAsync(settings));
            }

            var admin = apps[0].Admin;
            (await admin.PostAsJsonAsync("/api/v1/namespaces", new { name = "bench" })).EnsureSuccessStatusCode();
            (await admin.PostAsJsonAsync("/api/v1/namespaces/bench/imagestreams", new { name = "app" })).EnsureSuccessStatusCode();
            for (var i = 0; i < Tags; i++)
            {
                (await admin.PutAsJsonAsync($"/api/v1/namespaces/bench/imagestreams/app/tags/t{i}",
                    new { from = $"{registry.Host}/bench/{name}:t{i}", insecure = true, scheduled = true })).EnsureSuccessStatusCode();
            }

            for (var i = 0; i < Tags; i++)
            {
                await ImagePusher.PushImageAsync(pusher, $"bench/{name}", $"t{i}", CancellationToken.None, variant: " v2");
            }

            // The schedule rows are written by the ticks (paused ones too): wait for all, then make them due now.
            while (await ExecuteAsync(apps[0], postgres, """SELECT COUNT(*) FROM "TagSchedules" """) < Tags)
            {
                await Task.Delay(200);
            }

            await ExecuteAsync(apps[0], postgres, """UPDATE "TagSchedules" SET "NextCheckAt" = '2000-01-01 00:00:00'""");
            var clock = Stopwatch.StartNew();
            (await admin.PutAsJsonAsync("/api/v1/settings/import", new { disabled = false })).EnsureSuccessStatusCode();
            while (await ChangedAsync(admin) < Tags)
            {
                await Task.Delay(100);
            }

            return clock.Elapsed;
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.DisposeAsync();
            }
        }
    }

    private static async Task<int> ChangedAsync(HttpClient admin)
    {
        var stream = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/bench/imagestreams/app");
        return stream.GetProperty("status").GetProperty("tags").EnumerateArray().Count(t => t.GetProperty("items").GetArrayLength() > 1);
    }

    private static async Task<long> ExecuteAsync(AppProcess app, string? postgres, string sql)
    {
        if (postgres is null)
        {
            await using var sqlite = new SqliteConnection($"Data Source={Path.Combine(app.DataDirectory, "dashboard.db")};Default Timeout=30");
            await sqlite.OpenAsync();
            await using var command = sqlite.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(await command.ExecuteScalarAsync() ?? 0L);
        }

        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var pg = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await pg.ExecuteScalarAsync() ?? 0L);
    }

    private static async Task<string> CreateDatabaseAsync(string server, string name)
    {
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    private static Task<string> StartPostgresAsync(string directory) => RunScriptAsync("start", directory);

    private static async Task<string> RunScriptAsync(string action, string directory)
    {
        var start = new ProcessStartInfo(Path.Combine(Repository.Root, "scripts", "postgres.sh"), [action, directory]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/postgres.sh {action} failed (exit {process.ExitCode}).");
        }

        return output.Trim();
    }
}
