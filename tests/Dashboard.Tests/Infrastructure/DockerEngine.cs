using System.Diagnostics;
using System.Text;

namespace Dashboard.Tests.Infrastructure;

/// <summary>
/// A private Docker Engine (Debian's <c>docker.io</c>) for the test run, as RECIPES.md describes: a <c>dockerd</c> of
/// its own with vfs storage and no networking of its own (no iptables, no bridge), every file and socket under a
/// temporary directory, sharing nothing with a system daemon. It runs as root. The containerd that dockerd starts
/// (its socket under the exec root) also serves <c>ctr</c>, in a containerd namespace apart from dockerd's.
/// </summary>
public sealed class DockerEngine : IAsyncDisposable
{
    /// <summary>Debian's client: <c>/usr/local/bin</c> may hold another docker CLI earlier in PATH.</summary>
    public const string DockerCli = "/usr/bin/docker";

    /// <summary>dockerd's namespace in its containerd (docker 20.10 keeps the manifests it pulled there).</summary>
    public const string ContainerdNamespace = "dashboard-tests";

    /// <summary>The namespace of the tests' <c>ctr</c> pulls: what ctr finds there, ctr put there.</summary>
    public const string CtrNamespace = "dashboard-tests-ctr";

    private readonly string _directory;
    private readonly Process _daemon;
    private readonly StringBuilder _log = new();

    private DockerEngine(string directory, Process daemon)
    {
        _directory = directory;
        _daemon = daemon;
    }

    private string Socket => Path.Combine(_directory, "docker.sock");

    private string ContainerdSocket => Path.Combine(_directory, "exec", "containerd", "containerd.sock");

    /// <summary>What dockerd wrote, for a failing assertion's message.</summary>
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

    public static async Task<DockerEngine> StartAsync()
    {
        // Short: a unix socket path may not be longer than 107 bytes, and containerd's lies three levels down.
        var directory = Directory.CreateTempSubdirectory("dockerd-").FullName;
        var start = new ProcessStartInfo("dockerd",
        [
            "--data-root", Path.Combine(directory, "root"),
            "--exec-root", Path.Combine(directory, "exec"),
            "--pidfile", Path.Combine(directory, "dockerd.pid"),
            "--host", "unix://" + Path.Combine(directory, "docker.sock"),
            "--containerd-namespace", ContainerdNamespace,
            "--containerd-plugins-namespace", ContainerdNamespace + "-plugins",
            "--storage-driver", "vfs",
            "--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-forward=false", "--ip-masq=false",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var daemon = Process.Start(start) ?? throw new InvalidOperationException("dockerd did not start; is Debian's docker.io installed?");
        var engine = new DockerEngine(directory, daemon);
        daemon.OutputDataReceived += (_, line) => engine.Append(line.Data);
        daemon.ErrorDataReceived += (_, line) => engine.Append(line.Data);
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        await engine.WaitUntilAnsweringAsync();
        return engine;
    }

    /// <summary>
    /// Runs Debian's docker CLI against this daemon. <paramref name="config"/> is the client's own configuration directory
    /// (<c>DOCKER_CONFIG</c>): its logins, so each test logs in (or not) for itself.
    /// </summary>
    public Task<CommandResult> DockerAsync(string config, string[] arguments, string? input = null) =>
        Command.RunAsync(DockerCli, arguments,
            new Dictionary<string, string> { ["DOCKER_HOST"] = "unix://" + Socket, ["DOCKER_CONFIG"] = config }, input);

    /// <summary>
    /// Runs containerd's <c>ctr</c> against the containerd of this daemon, in the tests' own namespace. A test names the
    /// snapshotter: native unpacks by copying, as vfs does, with no mounts.
    /// </summary>
    public Task<CommandResult> CtrAsync(params string[] arguments) =>
        Command.RunAsync("ctr", ["--address", ContainerdSocket, "--namespace", CtrNamespace, .. arguments]);

    public async ValueTask DisposeAsync()
    {
        if (!_daemon.HasExited)
        {
            // A graceful stop (SIGTERM) lets dockerd stop the containerd it started; a kill would leave that one running.
            await Command.RunAsync("kill", ["-TERM", _daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            try
            {
                await _daemon.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                _daemon.Kill(entireProcessTree: true);
                await _daemon.WaitForExitAsync();
            }
        }

        _daemon.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still being released; the temp directory is cleaned by the OS later.
        }
    }

    private async Task WaitUntilAnsweringAsync()
    {
        // dockerd answers within a second here; a minute allows for a loaded machine.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_daemon.HasExited)
            {
                throw new InvalidOperationException($"dockerd exited with {_daemon.ExitCode} while starting:\n{Log}");
            }

            if (File.Exists(Socket) && (await DockerAsync(Path.Combine(_directory, "cfg"), ["version"])).Succeeded)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"dockerd did not answer within 60 s:\n{Log}");
            }

            await Task.Delay(100);
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
}
