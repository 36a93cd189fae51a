using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Dashboard.Bench;

/// <summary>One request the registry served, from its access log.</summary>
internal sealed record AccessLogEntry(string Method, string Path, int Status)
{
    /// <summary>What the request was for, e.g. <c>HEAD manifest</c>; a failed one carries its status.</summary>
    public string Kind
    {
        get
        {
            var what = Path switch
            {
                _ when Path.Contains("/tags/list") => "tags/list",
                _ when Path.Contains("/referrers/") => "referrers",
                _ when Path.Contains("/manifests/") => "manifest",
                _ when Path.Contains("/blobs/uploads") => "blob upload",
                _ when Path.Contains("/blobs/") => "blob",
                "/v2/" => "ping",
                _ => Path,
            };
            return Status is >= 200 and < 300 ? $"{Method} {what}" : $"{Method} {what} ({Status})";
        }
    }
}

/// <summary>
/// Debian's <c>docker-registry</c> (distribution 2.8) on a free loopback port with temporary storage and its access
/// log on, so a benchmark can count what each phase asked the registry for (RECIPES.md, "A real V2 registry").
/// </summary>
internal sealed partial class LocalRegistry : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Process _process;
    private readonly HttpClient _marker = new();
    private readonly List<AccessLogEntry> _entries = [];
    private readonly Lock _lock = new();
    private (string Mark, TaskCompletionSource Seen)? _waiting;

    private LocalRegistry(string directory, Process process, int port)
    {
        _directory = directory;
        _process = process;
        Host = $"127.0.0.1:{port}";
    }

    /// <summary>host:port, as an image reference names the registry.</summary>
    public string Host { get; }

    /// <param name="proxyOf">When set, the registry runs in its own pull-through proxy mode for that upstream URL.</param>
    public static async Task<LocalRegistry> StartAsync(string? proxyOf = null)
    {
        var directory = Directory.CreateTempSubdirectory("dashboard-bench-registry-").FullName;
        var port = AppProcess.FreePort();
        await File.WriteAllTextAsync(Path.Combine(directory, "config.yml"), $$$"""
            version: 0.1
            log: {level: error, accesslog: {disabled: false}}
            storage: {filesystem: {rootdirectory: {{{directory}}}/store}, cache: {blobdescriptor: inmemory}}
            http: {addr: 127.0.0.1:{{{port}}}}
            health: {storagedriver: {enabled: false}}
            {{{(proxyOf is null ? "" : $"proxy: {{remoteurl: {proxyOf}}}")}}}
            """);
        var process = Process.Start(new ProcessStartInfo("docker-registry", ["serve", Path.Combine(directory, "config.yml")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("docker-registry did not start; is Debian's docker-registry package installed?");
        var registry = new LocalRegistry(directory, process, port);
        // The access log (gorilla's combined format) goes to stdout; errors go to stderr and are not needed.
        process.OutputDataReceived += (_, line) => registry.Record(line.Data);
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await registry.WaitUntilListeningAsync();
        await registry.CheckpointAsync();
        return registry;
    }

    /// <summary>
    /// The requests served since the previous checkpoint. A marker request goes last and the log is read up to it, so
    /// every request that was answered before this call is in the list.
    /// </summary>
    public async Task<IReadOnlyList<AccessLogEntry>> CheckpointAsync()
    {
        var mark = Guid.NewGuid().ToString("N");
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waiting = (mark, seen);
        }

        using (await _marker.GetAsync($"http://{Host}/v2/?bench-mark={mark}"))
        {
        }

        await seen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        lock (_lock)
        {
            var entries = _entries.ToList();
            _entries.Clear();
            return entries;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _marker.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private void Record(string? line)
    {
        if (line is null || AccessLogLine().Match(line) is not { Success: true } match)
        {
            return;
        }

        var path = match.Groups["path"].Value;
        lock (_lock)
        {
            if (_waiting is { } waiting && path.EndsWith("bench-mark=" + waiting.Mark, StringComparison.Ordinal))
            {
                _waiting = null;
                waiting.Seen.SetResult();
                return;
            }

            _entries.Add(new AccessLogEntry(match.Groups["method"].Value, path, int.Parse(match.Groups["status"].Value)));
        }
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var response = await _marker.GetAsync($"http://{Host}/v2/");
                return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                // Started but not yet listening: the registry needs some tens of milliseconds.
                await Task.Delay(20);
            }
        }
    }


    // 127.0.0.1 - - [27/Nov/2026:19:55:27 +0000] "HEAD /v2/x/manifests/a HTTP/1.1" 404 91 "" "curl/7.88.1"
    [GeneratedRegex("""\] "(?<method>[A-Z]+) (?<path>\S+) HTTP/[0-9.]+" (?<status>[0-9]{3}) """)]
    private static partial Regex AccessLogLine();
}
