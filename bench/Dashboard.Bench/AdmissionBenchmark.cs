using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;

namespace Dashboard.Bench;

/// <summary>
/// <c>POST /admission/validate</c> of the real app (a Release build, its own process, loopback) with a Deployment of 5
/// containers against 100 rules, beside <c>GET /app.css</c> (a static file through the same middleware) in the same run:
/// closed-loop throughput with 4 connections, and latency at a fixed 1,000 requests per second.
/// </summary>
internal static class AdmissionBenchmark
{
    private const int Connections = 4;
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Measure = TimeSpan.FromSeconds(10);

    public static async Task RunAsync()
    {
        await using var app = await AppProcess.StartAsync();
        {
            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = app.Address };
            (await app.Admin.PutAsJsonAsync("/api/v1/policy/rules", Rules(1))).EnsureSuccessStatusCode();

            var review = Encoding.UTF8.GetBytes(Review());
            Func<HttpRequestMessage> admission = () => new HttpRequestMessage(HttpMethod.Post, "/admission/validate")
            {
                Content = new ByteArrayContent(review) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            };
            Func<HttpRequestMessage> trivial = () => new HttpRequestMessage(HttpMethod.Get, "/app.css");
            using (var check = await client.SendAsync(admission()))
            {
                var body = await check.Content.ReadAsStringAsync();
                if (!check.IsSuccessStatusCode || !body.Contains("\"allowed\":true"))
                {
                    throw new InvalidOperationException($"The admission answer is not the expected allow: {(int)check.StatusCode} {body}");
                }
            }

            var closedTrivial = await ClosedLoopAsync(client, trivial);
            var closedAdmission = await ClosedLoopAsync(client, admission);
            var fixedTrivial = await FixedRateAsync(client, trivial, 1000);
            var fixedAdmission = await FixedRateAsync(client, admission, 1000);

            Console.WriteLine($"Release build of the app in its own process on loopback; 100 rules; a Deployment of 5 containers; {Environment.ProcessorCount} cores shared with the load generator.");
            Console.WriteLine();
            Console.WriteLine("| run | endpoint | requests/s | p50 (ms) | p99 (ms) |");
            Console.WriteLine("|---|---|---:|---:|---:|");
            Print($"closed loop, {Connections} connections", "GET /app.css", closedTrivial);
            Print($"closed loop, {Connections} connections", "POST /admission/validate", closedAdmission);
            Print("fixed 1,000 requests/s", "GET /app.css", fixedTrivial);
            Print("fixed 1,000 requests/s", "POST /admission/validate", fixedAdmission);
            Console.WriteLine();
            Console.WriteLine($"Ratios admission / trivial: closed-loop p50 {closedAdmission.P50 / closedTrivial.P50:0.00}, p99 {closedAdmission.P99 / closedTrivial.P99:0.00}, "
                + $"throughput {closedAdmission.Rate / closedTrivial.Rate:0.00}; at 1,000/s p50 {fixedAdmission.P50 / fixedTrivial.P50:0.00}, p99 {fixedAdmission.P99 / fixedTrivial.P99:0.00}.");

            // The same Deployment against 1,000 rules of the same families (ten times each), in the same process.
            using (var thousand = await app.Admin.PutAsJsonAsync("/api/v1/policy/rules", Rules(10)))
            {
                if (!thousand.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"1,000 rules were refused: {await thousand.Content.ReadAsStringAsync()}");
                }
            }
            var closedThousand = await ClosedLoopAsync(client, admission);
            var fixedThousand = await FixedRateAsync(client, admission, 1000);
            Console.WriteLine();
            Console.WriteLine("| run | rules | requests/s | p50 (ms) | p99 (ms) |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            Console.WriteLine($"| closed loop, {Connections} connections | 100 | {closedAdmission.Rate:0} | {closedAdmission.P50:0.00} | {closedAdmission.P99:0.00} |");
            Console.WriteLine($"| closed loop, {Connections} connections | 1,000 | {closedThousand.Rate:0} | {closedThousand.P50:0.00} | {closedThousand.P99:0.00} |");
            Console.WriteLine($"| fixed 1,000 requests/s | 100 | {fixedAdmission.Rate:0} | {fixedAdmission.P50:0.00} | {fixedAdmission.P99:0.00} |");
            Console.WriteLine($"| fixed 1,000 requests/s | 1,000 | {fixedThousand.Rate:0} | {fixedThousand.P50:0.00} | {fixedThousand.P99:0.00} |");
            Console.WriteLine();
            Console.WriteLine($"Ratios 1,000 rules / 100 rules: closed-loop throughput {closedThousand.Rate / closedAdmission.Rate:0.00}, p50 {closedThousand.P50 / closedAdmission.P50:0.00}; "
                + $"at 1,000/s p50 {fixedThousand.P50 / fixedAdmission.P50:0.00}, p99 {fixedThousand.P99 / fixedAdmission.P99:0.00}.");
        }
    }

    private sealed record Result(double Rate, double P50, double P99, int Errors);

    private static void Print(string run, string endpoint, Result r) =>
        Console.WriteLine($"| {run} | {endpoint} | {r.Rate:0} | {r.P50:0.00} | {r.P99:0.00} |{(r.Errors > 0 ? $" ({r.Errors} errors)" : "")}");

    private static async Task<Result> ClosedLoopAsync(HttpClient client, Func<HttpRequestMessage> request)
    {
        await RunForAsync(client, request, Warmup, []);
        var samples = new List<double>();
        var errors = await RunForAsync(client, request, Measure, samples);
        return Summarize(samples, samples.Count / Measure.TotalSeconds, errors);
    }

    private static async Task<int> RunForAsync(HttpClient client, Func<HttpRequestMessage> request, TimeSpan duration, List<double> samples)
    {
        var errors = 0;
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async _ =>
        {
            var mine = new List<double>();
            while (Stopwatch.GetTimestamp() < until)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.SendAsync(request());
                await response.Content.LoadIntoBufferAsync();
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                }
            }

            lock (samples)
            {
                samples.AddRange(mine);
            }
        }));
        return errors;
    }

    /// <summary>Open loop: a request starts every 1/rate seconds whether or not earlier ones finished.</summary>
    private static async Task<Result> FixedRateAsync(HttpClient client, Func<HttpRequestMessage> request, int rate)
    {
        await RunForAsync(client, request, Warmup, []);
        var total = (int)(rate * Measure.TotalSeconds);
        var samples = new double[total];
        var errors = 0;
        var began = Stopwatch.GetTimestamp();
        var inFlight = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = began + (long)(i * Stopwatch.Frequency / (double)rate);
            while (Stopwatch.GetTimestamp() < due)
            {
                var wait = TimeSpan.FromSeconds((due - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
                if (wait > TimeSpan.FromMilliseconds(2))
                {
                    await Task.Delay(wait - TimeSpan.FromMilliseconds(1));
                }
                else
                {
                    Thread.SpinWait(50);
                }
            }

            var index = i;
            inFlight.Add(Task.Run(async () =>
            {
                using var response = await client.SendAsync(request());
                await response.Content.LoadIntoBufferAsync();
                // From the time the request was due: a late start counts against the server, as a real client would see it.
                samples[index] = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                }
            }));
        }

        await Task.WhenAll(inFlight);
        var elapsed = Stopwatch.GetElapsedTime(began).TotalSeconds;
        return Summarize([.. samples], total / elapsed, errors);
    }

    private static Result Summarize(List<double> samples, double rate, int errors)
    {
        samples.Sort();
        return new Result(rate, samples[samples.Count / 2], samples[(int)(samples.Count * 0.99)], errors);
    }

    /// <summary>
    /// 100 rules as an installation might have them: Deny rules on registries, repositories and tags that this Deployment's
    /// images do not meet, Warn and Audit rules, label and known-image conditions (so the image facts are looked up), and
    /// Allow rules of which one lets the images in.
    /// </summary>
    /// <param name="scale">1: 100 rules; 10: 1,000 rules of the same families.</param>
    private static object[] Rules(int scale) =>
    [
        .. Enumerable.Range(0, 40 * scale).Select(i => new { name = $"deny-repo-{i}", repositories = new[] { $"blocked-{i}/**", $"legacy/app-{i}" } }),
        .. Enumerable.Range(0, 20 * scale).Select(i => new { name = $"deny-tag-{i}", registries = new[] { $"*.zone-{i}.example.com" }, tags = new[] { "latest", $"dev-{i}*" } }),
        .. Enumerable.Range(0, 15 * scale).Select(i => new { name = $"warn-{i}", enforcement = "Warn", repositories = new[] { $"old-{i}/*" } }),
        .. Enumerable.Range(0, 10 * scale).Select(i => (object)new { name = $"audit-known-{i}", enforcement = "Audit", requireKnown = true, registries = new[] { $"audit-{i}.example.com" } }),
        .. Enumerable.Range(0, 5 * scale).Select(i => (object)new { name = $"deny-label-{i}", labels = new[] { new { key = $"deprecated-{i}", op = "Exists" } } }),
        .. Enumerable.Range(0, 9 * scale).Select(i => new { name = $"allow-{i}", action = "Allow", registries = new[] { $"registry-{i}.example.com" } }),
        new { name = "allow-corp", action = "Allow", registries = new[] { "registry.corp.example.com" } },
    ];

    private static string Review()
    {
        var containers = string.Join(",", Enumerable.Range(0, 5).Select(i =>
            $$"""{"name":"c{{i}}","image":"registry.corp.example.com/team-{{i}}/service-{{i}}:1.{{i}}.0"}"""));
        return """
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"bench","kind":{"group":"apps","version":"v1","kind":"Deployment"},
             "namespace":"shop","operation":"CREATE","object":{"metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[CONTAINERS]}}}}}}
            """.Replace("CONTAINERS", containers);
    }
}
