using Dashboard.Domain.Scheduling;
using System.Diagnostics;
using Dashboard.Domain.Access;
using Dashboard.Domain.Import;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Registry;
using System.Security.Cryptography;
using Dashboard.Domain.Signatures;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dashboard.Bench;

/// <summary>
/// A repository of 200 tags on a local registry: a cold repository import (<c>maxTags: -1</c>, nothing in the
/// database yet) and an unchanged re-import, timed and with their registry requests counted from the registry's access
/// log; the cold import's requests are then issued directly at the same concurrency, as the floor to compare with.
/// Signed (<c>import-signed</c>): every image carries a cosign signature and the dashboard trusts its key, so the cold
/// import also looks for and verifies the signatures (decision 0017).
/// </summary>
internal static class RepositoryImportBenchmark
{
    private const int Tags = 200;
    private const string Repository = "bench/app";

    // The first run in the process also pays for the JIT and EF's model; runs 2..Runs are summarised as medians.
    private const int Runs = 8;

    public static Task RunAsync() => RunAsync(signed: false);

    public static Task RunSignedAsync() => RunAsync(signed: true);

    private static async Task RunAsync(bool signed)
    {
        await using var registry = await LocalRegistry.StartAsync();
        using var key = signed ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : null;
        var push = Stopwatch.StartNew();
        using (var pusher = new HttpClient { BaseAddress = new Uri($"http://{registry.Host}") })
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, Tags), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
            {
                var digest = await ImagePusher.PushImageAsync(pusher, Repository, $"1.{i / 10}.{i % 10}", ct);
                if (key is not null)
                {
                    await ImagePusher.PushSignatureAsync(pusher, Repository, digest, $"{registry.Host}/{Repository}", key, ct);
                }
            });
        }

        Console.WriteLine($"{Tags} images{(signed ? " and their signatures" : "")} pushed to {registry.Host}/{Repository} in {push.Elapsed.TotalSeconds:0.0} s ({Describe(await registry.CheckpointAsync())})");

        var runs = new List<Run>();
        for (var i = 1; i <= Runs; i++)
        {
            var run = await RunOnceAsync(registry, key?.ExportSubjectPublicKeyInfoPem());
            runs.Add(run);
            Console.WriteLine($"run {i}: cold {Show(run.Cold)}; unchanged {Show(run.Unchanged)}; direct: the cold import's requests by HttpClient "
                + $"{run.ColdByHttpClient:0} ms, by curl {run.ColdByCurl:0} ms, the re-import's by HttpClient {run.UnchangedByHttpClient:0} ms");
        }

        var first = runs[0];
        var rest = runs.Skip(1).ToList();
        Console.WriteLine();
        Console.WriteLine($"Wall time in ms; median of runs 2-{Runs} (each on a fresh database, the same registry); "
            + $"direct = the same requests at RegistryConcurrency = {first.Concurrency} at a time; ratios are medians of each run's ratio.");
        Console.WriteLine("| | first run in the process | median of later runs | registry requests (access log) | SQL commands |");
        Console.WriteLine("|---|---:|---:|---|---:|");
        Row($"cold import, {Tags} tags", r => r.Cold.Milliseconds, first.Cold.Requests, first.Cold.SqlCommands);
        Row("the same requests, HttpClient", r => r.ColdByHttpClient, first.Cold.Requests);
        Row("the same requests, curl --parallel", r => r.ColdByCurl, first.Cold.Requests);
        Row("unchanged re-import", r => r.Unchanged.Milliseconds, first.Unchanged.Requests, first.Unchanged.SqlCommands);
        Row("the same requests, HttpClient", r => r.UnchangedByHttpClient, first.Unchanged.Requests);
        Row("**ratio cold import / HttpClient**", r => r.Cold.Milliseconds / r.ColdByHttpClient, format: "0.00");
        Row("ratio cold import / curl", r => r.Cold.Milliseconds / r.ColdByCurl, format: "0.00");
        Row("ratio unchanged re-import / HttpClient", r => r.Unchanged.Milliseconds / r.UnchangedByHttpClient, format: "0.00");

        void Row(string name, Func<Run, double> value, string requests = "", long? sqlCommands = null, string format = "0")
        {
            var later = rest.Select(value).Order().ToList();
            Console.WriteLine($"| {name} | {value(first).ToString(format)} | {later[later.Count / 2].ToString(format)} | {requests} | {sqlCommands} |");
        }
    }

    private static async Task<Run> RunOnceAsync(LocalRegistry registry, string? trustedKey)
    {
        var path = Path.Combine(Path.GetTempPath(), $"dashboard-bench-import-{Guid.NewGuid():N}.db");
        var sql = new SqlCommandCounter();
        var services = new ServiceCollection()
            .AddLogging()
            // Pull secrets play no part here (the registry is open), but PullSecretService needs a protector; the host's
            // Data Protection one lives in src/Dashboard, so a pass-through stands in.
            .AddSingleton<ISecretProtector, PassThroughProtector>()
            .Configure<RegistryOptions>(o => o.AllowLoopback = true)
            .Configure<ImportOptions>(_ => { })
            // The default pace (requests per second per registry) would measure the pace; this measures the work.
            .Configure<ScheduleOptions>(o => o.RegistryRequestsPerSecond = 0)
            .AddDashboardDomain(o => o.UseDashboardSqlite(path).AddInterceptors(sql))
            .BuildServiceProvider();
        try
        {
            await services.MigrateDashboardDatabaseAsync();
            await services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "bench");
            await services.GetRequiredService<ImageStreamService>().CreateAsync(Caller.System, "bench", "app");
            if (services.GetRequiredService<IOptionsMonitor<ImportOptions>>().CurrentValue.MaxTagsCap < Tags)
            {
                throw new InvalidOperationException($"ImportOptions.MaxTagsCap is below {Tags}: maxTags -1 would not take every tag.");
            }

            if (trustedKey is not null)
            {
                await services.GetRequiredService<TrustedKeyStore>().PutAsync(Caller.System, "bench", trustedKey, "the benchmark's signer");
            }

            var importer = services.GetRequiredService<RepositoryImporter>();
            var client = services.GetRequiredService<RegistryClient>();
            var request = new RepositoryImportRequest($"{registry.Host}/{Repository}", MaxTags: -1, Insecure: true);
            await registry.CheckpointAsync();

            var cold = await ImportAsync(registry, client, sql, () => importer.ImportAsync(Caller.System, "bench", "app", request), "Imported");
            if (trustedKey is not null)
            {
                await using var db = await services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync();
                var verified = (await db.ImageSignatures.AsNoTracking().ToListAsync()).Count(s => s.VerifiedKeys.Contains("bench"));
                if (verified != Tags)
                {
                    throw new InvalidOperationException($"The cold import should have verified {Tags} signatures with the trusted key; it verified {verified}.");
                }
            }

            var unchanged = await ImportAsync(registry, client, sql, () => importer.ImportAsync(Caller.System, "bench", "app", request), "Unchanged");
            var expected = new Dictionary<string, int> { ["GET tags/list"] = 1, ["HEAD manifest"] = Tags };
            var issued = unchanged.Log.CountBy(e => e.Kind).ToDictionary();
            if (issued.Count != expected.Count || expected.Any(e => issued.GetValueOrDefault(e.Key) != e.Value))
            {
                throw new InvalidOperationException(
                    $"The unchanged re-import should issue one tag listing and {Tags} manifest HEADs, nothing else (no trusted keys: no look for "
                    + $"signatures; with keys, one per image at most every Dashboard:Signatures:RecheckMinutes); it issued {Describe(unchanged.Log)}.");
            }

            var concurrency = services.GetRequiredService<ScheduleSettings>().Current.RegistryConcurrency;
            var byHttpClient = await ReplayAsync(registry, cold.Log, () => RequestReplay.WithHttpClientAsync(registry.Host, cold.Log, concurrency));
            var byCurl = await ReplayAsync(registry, cold.Log, () => RequestReplay.WithCurlAsync(registry.Host, cold.Log, concurrency));
            var headsByHttpClient = await ReplayAsync(registry, unchanged.Log, () => RequestReplay.WithHttpClientAsync(registry.Host, unchanged.Log, concurrency));
            return new Run(concurrency, cold, unchanged, byHttpClient, byCurl, headsByHttpClient);
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

    private static async Task<Phase> ImportAsync(LocalRegistry registry, RegistryClient client, SqlCommandCounter sql,
        Func<Task<RepositoryImportResult>> import, string reason)
    {
        var sentBefore = client.RequestCount;
        var sqlBefore = sql.Snapshot;
        var watch = Stopwatch.StartNew();
        var result = await import();
        var elapsed = watch.Elapsed.TotalMilliseconds;
        var sent = client.RequestCount - sentBefore;
        var sqlAfter = sql.Snapshot;
        var log = await registry.CheckpointAsync();
        var odd = result.Imported.FirstOrDefault(o => o.Reason != reason);
        if (result.Imported.Count != Tags || odd is not null)
        {
            throw new InvalidOperationException($"Expected {Tags} tags '{reason}', got {result.Imported.Count}; e.g. {odd}");
        }

        return new Phase(elapsed, log, Describe(log), sent, sqlAfter.Commands - sqlBefore.Commands, (sqlAfter.Time - sqlBefore.Time).TotalMilliseconds);
    }

    /// <summary>Times a direct replay and checks from the access log that it asked for the same things, all answered.</summary>
    private static async Task<double> ReplayAsync(LocalRegistry registry, IReadOnlyList<AccessLogEntry> recorded, Func<Task<TimeSpan>> replay)
    {
        var elapsed = await replay();
        var log = await registry.CheckpointAsync();
        if (Describe(log.OrderBy(e => e.Kind, StringComparer.Ordinal)) != Describe(recorded.OrderBy(e => e.Kind, StringComparer.Ordinal)))
        {
            throw new InvalidOperationException($"The replay issued {Describe(log)} instead of {Describe(recorded)}.");
        }

        return elapsed.TotalMilliseconds;
    }

    private static string Show(Phase phase) =>
        $"{phase.Milliseconds:0} ms [{phase.Requests}; the client counted {phase.ClientCount}; {phase.SqlCommands} SQL commands, {phase.SqlMilliseconds:0} ms summed]";

    private static string Describe(IEnumerable<AccessLogEntry> log) =>
        string.Join(", ", log.CountBy(e => e.Kind).Select(k => $"{k.Key} {k.Value}")) is { Length: > 0 } text ? text : "none";

    private sealed record Phase(double Milliseconds, IReadOnlyList<AccessLogEntry> Log, string Requests, long ClientCount, long SqlCommands, double SqlMilliseconds);

    private sealed record Run(int Concurrency, Phase Cold, Phase Unchanged, double ColdByHttpClient, double ColdByCurl, double UnchangedByHttpClient);
}
