using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text.RegularExpressions;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Scheduling;
using Microsoft.Data.Sqlite;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Dashboard.Bench;

/// <summary>
/// What an open console tab costs the server. The real app (Release build, its own process, SQLite) seeded with 300
/// image streams in 10 namespaces (3 tags each, 2 of them scheduled, with history and check results), a fresh process
/// per round; Debian's Chromium signed in as the admin opens N tabs (10, 50, 100), half on the Image streams page and
/// half on the Schedules page (the Image streams half first, measured on its own), each waited for until its
/// circuit is interactive and its grid has rows. The app's resident memory
/// (VmRSS) and managed heap are read after a full garbage collection induced through the diagnostics port (no endpoint
/// needed), with 0 tabs and with N; the cost per circuit is their difference over N. Then the browser context goes away
/// without the disconnect beacon Blazor sends when a page unloads (as when a network drops or a laptop sleeps): the
/// circuits stay on the server, disconnected, for Dashboard:Circuits:DisconnectedRetentionSeconds, and are measured
/// again while kept and after they are dropped.
/// </summary>
internal static class CircuitMemoryBenchmark
{
    private const int Namespaces = 10;
    private const int StreamsPerNamespace = 30;
    private const int Samples = 5;

    // Short, so a round waits 30 s rather than the default 3 min for the kept circuits to go; what they hold does not
    // depend on how long they are kept.
    private const int RetentionSeconds = 30;

    private static readonly int[] TabCounts = [10, 50, 100];

    private static readonly string[] ChromiumArguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    public static async Task RunAsync()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ChromiumArguments,
        });

        var rounds = new List<Round>();
        foreach (var tabs in TabCounts)
        {
            var watch = Stopwatch.StartNew();
            var round = await RoundAsync(browser, tabs);
            rounds.Add(round);
            Console.WriteLine($"{tabs,3} tabs: round took {watch.Elapsed.TotalSeconds:0} s (opening the tabs {round.OpenSeconds:0.0} s)");
        }

        Console.WriteLine();
        Console.WriteLine($"{Namespaces * StreamsPerNamespace} image streams in {Namespaces} namespaces, {Namespaces * StreamsPerNamespace * 2} scheduled tags; "
            + $"a fresh app process per round; half the tabs on Image streams (25 rows), half on Schedules (50 rows).");
        Console.WriteLine($"Memory after a full GC induced from outside, median of {Samples} readings 1 s apart; MiB; "
            + $"disconnected circuits kept {RetentionSeconds} s, up to {TabCounts.Max()}, for this run.");
        Console.WriteLine();
        Console.WriteLine("| tabs | RSS, 0 tabs | RSS, N tabs open | per open tab (KiB) | heap, 0 tabs | heap, N tabs | heap per tab (KiB) "
            + "| RSS, N kept disconnected | heap, kept | heap per kept circuit (KiB) | RSS after they are dropped | heap after |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rounds)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Tabs} | {MiB(r.Idle.Rss)} | {MiB(r.Open.Rss)} | {KiB((r.Open.Rss - r.Idle.Rss) / r.Tabs)} | {MiB(r.Idle.Heap)} | {MiB(r.Open.Heap)} "
                + $"| {KiB((r.Open.Heap - r.Idle.Heap) / r.Tabs)} | {MiB(r.Kept.Rss)} | {MiB(r.Kept.Heap)} | {KiB((r.Kept.Heap - r.Idle.Heap) / Math.Max(1, r.CircuitsKept))} "
                + $"| {MiB(r.Dropped.Rss)} | {MiB(r.Dropped.Heap)} |"));
        }

        Console.WriteLine();
        Console.WriteLine("Per page (managed heap after a full GC, KiB per tab): the first half of the tabs are Image streams, the second half Schedules.");
        Console.WriteLine();
        Console.WriteLine("| tabs | Image streams tab | Schedules tab | RSS per Image streams tab | RSS per Schedules tab |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        foreach (var r in rounds)
        {
            var first = r.Tabs / 2;
            var second = r.Tabs - first;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Tabs} | {KiB((r.ImageStreamsOnly.Heap - r.Idle.Heap) / first)} | {KiB((r.Open.Heap - r.ImageStreamsOnly.Heap) / second)} "
                + $"| {KiB((r.ImageStreamsOnly.Rss - r.Idle.Rss) / first)} | {KiB((r.Open.Rss - r.ImageStreamsOnly.Rss) / second)} |"));
        }

        Console.WriteLine();
        foreach (var r in rounds)
        {
            Console.WriteLine($"{r.Tabs} tabs: circuits seen {r.CircuitsOpen} connected, then {r.CircuitsKept} kept disconnected; dropped {r.DroppedAfterSeconds:0} s "
                + $"after the browser went away; peak RSS of the round {MiB(r.PeakRss)} MiB.");
        }

        static string MiB(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture);
        static string KiB(long bytes) => (bytes / 1024.0).ToString("0", CultureInfo.InvariantCulture);
    }

    private sealed record Reading(long Rss, long Heap);

    private sealed record Round(int Tabs, Reading Idle, Reading ImageStreamsOnly, Reading Open, Reading Kept, Reading Dropped, double OpenSeconds, int CircuitsOpen, int CircuitsKept,
        double DroppedAfterSeconds, long PeakRss);

    private static async Task<Round> RoundAsync(IBrowser browser, int tabs)
    {
        await using var app = await AppProcess.StartAsync(
            new Dictionary<string, string>
            {
                ["Dashboard__Circuits__DisconnectedRetentionSeconds"] = RetentionSeconds.ToString(CultureInfo.InvariantCulture),
                // Every closed tab's circuit is kept, so what each holds can be measured.
                ["Dashboard__Circuits__MaxRetainedDisconnected"] = TabCounts.Max().ToString(CultureInfo.InvariantCulture),
                // Nothing imports during the measurement: the schedules stay as seeded.
                ["Dashboard__Import__Disabled"] = "true",
            },
            SeedAsync);

        // Sign in once, and visit both pages once, so JIT, EF's model and MudBlazor's first render are in the baseline.
        var signedIn = await SignInAsync(browser, app);
        await using (var warmUp = await browser.NewContextAsync(ContextOptions(app, signedIn)))
        {
            foreach (var path in new[] { "imagestreams", "schedules" })
            {
                await OpenAsync(await warmUp.NewPageAsync(), path);
            }
        }

        await WaitForCircuitsAsync(app, c => c.Connected == 0 && c.Disconnected == 0, "the warm-up tabs to close");
        var idle = await ReadAsync(app);

        var context = await browser.NewContextAsync(ContextOptions(app, signedIn));
        // The beacon a closing page sends to /_blazor/disconnect would end its circuit at once: a dropped network sends none.
        await context.RouteAsync("**/_blazor/disconnect*", route => route.AbortAsync());
        // Half the tabs on each page: the Image streams tabs first, read, then the Schedules tabs, so each page's share shows.
        var opening = Stopwatch.StartNew();
        await OpenManyAsync(context, "imagestreams", tabs / 2);
        await WaitForCircuitsAsync(app, c => c.Connected == tabs / 2, $"{tabs / 2} connected circuits");
        var half = await ReadAsync(app);
        await OpenManyAsync(context, "schedules", tabs - tabs / 2);
        var openSeconds = opening.Elapsed.TotalSeconds;
        var circuitsOpen = (await WaitForCircuitsAsync(app, c => c.Connected == tabs, $"{tabs} connected circuits")).Connected;
        var open = await ReadAsync(app);

        await context.CloseAsync();
        var gone = Stopwatch.StartNew();
        var kept = await WaitForCircuitsAsync(app, c => c.Connected == 0, "the connections to drop");
        var keptReading = await ReadAsync(app);
        await WaitForCircuitsAsync(app, c => c.Disconnected == 0, "the kept circuits to be dropped", TimeSpan.FromSeconds(RetentionSeconds * 3));
        var droppedAfter = gone.Elapsed.TotalSeconds;
        var dropped = await ReadAsync(app);
        return new Round(tabs, idle, half, open, keptReading, dropped, openSeconds, circuitsOpen, kept.Disconnected, droppedAfter, app.Memory().Peak);
    }

    private static BrowserNewContextOptions ContextOptions(AppProcess app, string storageState) => new()
    {
        BaseURL = app.Address.ToString(),
        ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        StorageState = storageState,
    };

    private static async Task<string> SignInAsync(IBrowser browser, AppProcess app)
    {
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = app.Address.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("account/login");
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync(AppProcess.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        var state = await context.StorageStateAsync();
        await page.CloseAsync();
        return state;
    }

    /// <summary>Opens <paramref name="count"/> tabs of one page, a few at a time as a browser restoring a session would.</summary>
    private static async Task OpenManyAsync(IBrowserContext context, string path, int count)
    {
        for (var opened = 0; opened < count; opened += 4)
        {
            var batch = Enumerable.Range(0, Math.Min(4, count - opened)).Select(async _ => await OpenAsync(await context.NewPageAsync(), path));
            await Task.WhenAll(batch);
        }
    }

    /// <summary>Opens a page and waits until its circuit has taken over and its grid shows rows from the database.</summary>
    private static async Task OpenAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 60_000 });
        await page.GetByRole(AriaRole.Link, new() { NameRegex = new Regex("^(app-|team-)") }).First.WaitForAsync(new() { Timeout = 60_000 });
    }

    private sealed record Circuits(int Connected, int Disconnected);

    private static async Task<Circuits> WaitForCircuitsAsync(AppProcess app, Func<Circuits, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var metrics = await app.Admin.GetStringAsync("/metrics");
            var circuits = new Circuits((int)Metric(metrics, "dashboard_circuits{state=\"connected\"}"), (int)Metric(metrics, "dashboard_circuits{state=\"disconnected\"}"));
            if (condition(circuits))
            {
                return circuits;
            }

            if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(60)))
            {
                throw new InvalidOperationException($"Waited {deadline.Elapsed.TotalSeconds:0} s for {what}; the app reports {circuits}.");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Resident memory and managed heap after a full GC, the median of a few readings once it has settled.</summary>
    private static async Task<Reading> ReadAsync(AppProcess app)
    {
        await CollectGarbageAsync(app.ProcessId);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var rss = new List<long>();
        var heap = new List<long>();
        for (var i = 0; i < Samples; i++)
        {
            rss.Add(app.Memory().Resident);
            heap.Add(Metric(await app.Admin.GetStringAsync("/metrics"), "dashboard_gc_heap_bytes"));
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        return new Reading(Median(rss), Median(heap));
    }

    /// <summary>
    /// A full, blocking GC in the app, induced as dotnet-gcdump does: enabling the runtime provider's GCHeapCollect
    /// keyword (0x800000) over EventPipe makes the runtime collect; the session stays open 2 s for it to finish.
    /// </summary>
    private static async Task CollectGarbageAsync(int processId)
    {
        var client = new DiagnosticsClient(processId);
        using var session = await client.StartEventPipeSessionAsync(
            [new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, 0x800000)], requestRundown: false, circularBufferMB: 16, default);
        var drain = session.EventStream.CopyToAsync(Stream.Null);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await session.StopAsync(default);
        await drain;
    }

    private static long Metric(string metrics, string name)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"/metrics has no {name}.");
        return long.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private static long Median(List<long> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    // 10 namespaces × 30 streams; each stream has latest, 1.0 and 1.1 from quay.io, the two versions re-imported on a
    // schedule, two images in each tag's history, and a check result on each schedule (one in ten failing).
    private static async Task SeedAsync(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, "dashboard.db");
        var now = DateTime.UtcNow;
        await using (var services = new ServiceCollection().AddLogging().AddDashboardDomain(o => o.UseDashboardSqlite(path)).BuildServiceProvider())
        {
            await services.MigrateDashboardDatabaseAsync();
            await using var db = await services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync();
            string[] words = ["api", "web", "worker", "db", "cache", "gateway", "auth"];
            var streams = new List<ImageStream>();
            for (var n = 0; n < Namespaces; n++)
            {
                var ns = new Namespace($"team-{n:00}", now.AddDays(-30));
                db.Namespaces.Add(ns);
                for (var s = 0; s < StreamsPerNamespace; s++)
                {
                    var name = $"app-{words[s % words.Length]}-{s:00}";
                    var stream = new ImageStream(ns, name, null, null, now.AddDays(-20).AddMinutes(s));
                    foreach (var (tag, scheduled) in new[] { ("latest", false), ("1.0", true), ("1.1", true) })
                    {
                        var from = $"quay.io/team-{n:00}/{name}:{tag}";
                        stream.SetTag(tag, new TagSource(TagSourceKind.DockerImage, from), scheduled, false, ImportMode.PreserveOriginal, ReferencePolicy.Source);
                        for (var h = 2; h >= 1; h--)
                        {
                            stream.RecordImage(tag, ImageReference.Parse(from), Digest.Sha256(System.Text.Encoding.UTF8.GetBytes($"{from}#{h}")), now.AddHours(-h * (s + 1)));
                        }
                    }

                    db.ImageStreams.Add(stream);
                    streams.Add(stream);
                }
            }

            await db.SaveChangesAsync();
            var i = 0;
            foreach (var stream in streams)
            {
                foreach (var tag in new[] { "1.0", "1.1" })
                {
                    var schedule = new TagSchedule(stream.Id, tag, now.AddMinutes(i % 15));
                    var failing = i++ % 10 == 0;
                    schedule.Record(now.AddMinutes(-(i % 15)), TimeSpan.FromMilliseconds(40 + i % 200), !failing, false,
                        failing ? "Unreachable" : "Unchanged", failing ? "quay.io answered 503 Service Unavailable" : "the tag still points at the same image",
                        now.AddMinutes(15 - i % 15), jobId: (1000 + i).ToString(CultureInfo.InvariantCulture));
                    db.TagSchedules.Add(schedule);
                }
            }

            await db.SaveChangesAsync();
        }

        SqliteConnection.ClearAllPools();
    }
}
