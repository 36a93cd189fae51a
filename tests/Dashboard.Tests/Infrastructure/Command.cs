using System.Diagnostics;

namespace Dashboard.Tests.Infrastructure;

/// <summary>What a command-line client did: its exit code and everything it wrote (stdout, then stderr).</summary>
public sealed record CommandResult(int Exit, string Output)
{
    public bool Succeeded => Exit == 0;

    public override string ToString() => $"exit {Exit}: {Output}";
}

/// <summary>Runs a command-line client (docker, ctr, podman, skopeo) to its end, with a deadline.</summary>
public static class Command
{
    public static async Task<CommandResult> RunAsync(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? input = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish in time: {await output}{await error}");
        }

        return new CommandResult(process.ExitCode, await output + await error);
    }
}
