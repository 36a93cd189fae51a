using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Dashboard.Bench;

/// <summary>The app's Release build in a process of its own on a loopback port, with a throwaway data directory.</summary>
internal sealed class AppProcess : IAsyncDisposable
{
    public const string AdminPassword = "Bench-Passw0rd!-app";

    private readonly Process _process;
    private readonly string _data;

    private AppProcess(Process process, string data, Uri address)
    {
        _process = process;
        _data = data;
        Address = address;
        Admin = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(10) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"admin:{AdminPassword}")));
    }

    public Uri Address { get; }

    /// <summary>A client signed in as the admin (HTTP Basic).</summary>
    public HttpClient Admin { get; }

    public int ProcessId => _process.Id;

    public string DataDirectory => _data;

    /// <param name="settings">Environment variables for the app, e.g. <c>Dashboard__Registries__AllowLoopback</c>.</param>
    /// <param name="prepare">Runs on the data directory before the app starts, e.g. to seed its SQLite database.</param>
    public static async Task<AppProcess> StartAsync(IReadOnlyDictionary<string, string>? settings = null, Func<string, Task>? prepare = null)
    {
        var dll = Path.Combine(Repository.Root, "src", "Dashboard", "bin", "Release", "net10.0", "Dashboard.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"Build the app first: dotnet build -c Release src/Dashboard ({dll} is missing).");
        }

        var data = Directory.CreateTempSubdirectory("dashboard-bench-app-").FullName;
        if (prepare is not null)
        {
            await prepare(data);
        }

        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [dll]) { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["Dashboard__DataDirectory"] = data;
        start.Environment["Dashboard__Bootstrap__AdminPassword"] = AdminPassword;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new AppProcess(process, data, new Uri($"http://127.0.0.1:{port}"));
        await app.WaitUntilUpAsync();
        return app;
    }

    /// <summary>The process's resident memory now and its peak so far, in bytes (from /proc).</summary>
    public (long Resident, long Peak) Memory()
    {
        var lines = File.ReadAllLines($"/proc/{_process.Id}/status");
        long Read(string key) => long.Parse(lines.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0]) * 1024;
        return (Read("VmRSS"), Read("VmHWM"));
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private async Task WaitUntilUpAsync()
    {
        for (var i = 0; i < 300; i++)
        {
            try
            {
                using var response = await Admin.GetAsync("/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("The app did not answer /healthz within 30 s.");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
