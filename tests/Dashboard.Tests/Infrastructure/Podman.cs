namespace Dashboard.Tests.Infrastructure;

/// <summary>
/// Debian's podman with storage of the tests' own: vfs under a temporary directory (<c>--root</c>, <c>--runroot</c>),
/// no systemd (cgroupfs, events to a file), an empty login file. It has no daemon: each command is a process.
/// </summary>
public sealed class Podman : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("podman-").FullName;

    public Podman()
    {
        // podman stats the login file named by REGISTRY_AUTH_FILE and fails when it is missing.
        File.WriteAllText(Path.Combine(_directory, "auth.json"), """{"auths": {}}""");
    }

    public Task<CommandResult> RunAsync(params string[] arguments) =>
        Command.RunAsync("podman",
        [
            "--root", Path.Combine(_directory, "root"),
            "--runroot", Path.Combine(_directory, "run"),
            "--tmpdir", Path.Combine(_directory, "tmp"),
            "--storage-driver", "vfs",
            "--cgroup-manager", "cgroupfs",
            "--events-backend", "file",
            .. arguments,
        ], new Dictionary<string, string> { ["REGISTRY_AUTH_FILE"] = Path.Combine(_directory, "auth.json") });

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still being released; the temp directory is cleaned by the OS later.
        }
    }
}
