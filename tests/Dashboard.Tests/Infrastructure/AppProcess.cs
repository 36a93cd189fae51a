using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Dashboard.Tests.Infrastructure;

/// <summary>
/// The app's build output started as a process of its own (<c>dotnet Dashboard.dll</c>) on a loopback port, with a data
/// directory of its own: what several instances behind a load balancer are. It can be killed like a crashed host.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    public const string AdminPassword = "Instances-Passw0rd!";

    private readonly Process _process;
    private readonly string _data;
    private readonly StringBuilder _log = new();

    private AppProcess(Process process, string data, Uri address)
    {
        _process = process;
        _data = data;
        Address = address;
        Admin = Client();
        Admin.DefaultRequestHeaders.Authorization = DashboardFactory.Basic("admin", AdminPassword);
    }

    public Uri Address { get; }

    /// <summary>A client signed in as the admin (HTTP Basic).</summary>
    public HttpClient Admin { get; }

    /// <summary>What the process wrote, for a failing assertion's message.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public HttpClient Client() => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };

    public static async Task<AppProcess> StartAsync(IEnumerable<KeyValuePair<string, string>> settings)
    {
        var (process, data, address) = Launch(settings);
        var app = new AppProcess(process, data, address);
        process.OutputDataReceived += (_, line) => app.Append(line.Data);
        process.ErrorDataReceived += (_, line) => app.Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await app.WaitUntilUpAsync();
        return app;
    }

    /// <summary>Starts the app and waits for it to exit by itself (a start that must fail): its exit code and what it wrote to stderr.</summary>
    public static async Task<(int ExitCode, string Errors)> RunToExitAsync(IEnumerable<KeyValuePair<string, string>> settings)
    {
        var (process, data, _) = Launch(settings);
        using (process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var errors = process.StandardError.ReadToEndAsync(timeout.Token);
            _ = process.StandardOutput.ReadToEndAsync(timeout.Token);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("the app was expected to stop by itself within 60 s, and was still running");
            }

            Directory.Delete(data, recursive: true);
            return (process.ExitCode, await errors);
        }
    }

    private static (Process Process, string Data, Uri Address) Launch(IEnumerable<KeyValuePair<string, string>> settings)
    {
        var dll = Path.Combine(RepositoryRoot(), "src", "Dashboard", "bin", "Debug", "net10.0", "Dashboard.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first (./test.sh does).");
        var data = Directory.CreateTempSubdirectory("dashboard-instance-").FullName;
        var port = RegistryServer.FreePort();
        var start = new ProcessStartInfo("dotnet", [dll]) { WorkingDirectory = data, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["Dashboard__DataDirectory"] = data;
        start.Environment["Dashboard__Bootstrap__AdminPassword"] = AdminPassword;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        return (Process.Start(start)!, data, new Uri($"http://127.0.0.1:{port}"));
    }

    /// <summary>Ends the process at once, as a crash or <c>kill -9</c> does: no shutdown, nothing finished or released.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await KillAsync();
        _process.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // A file still being released; the temp directory is cleaned by the OS later.
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private async Task WaitUntilUpAsync()
    {
        for (var i = 0; i < 600; i++)
        {
            Assert.False(_process.HasExited, $"the app exited while starting:\n{Log}");
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

        Assert.Fail($"the app did not answer /healthz within 60 s:\n{Log}");
    }

    /// <summary>The checkout this test run was built from (the folder holding Dashboard.sln).</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Dashboard.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Dashboard.sln not found above " + AppContext.BaseDirectory);
    }
}
