using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace Dashboard.Hosting;

/// <summary>
/// <c>Dashboard:Circuits</c>: how long the server keeps the circuit of a console tab whose connection dropped, so the tab
/// can reconnect to it, and how many such circuits it keeps at most. Each one holds the tab's components in memory
/// (figures in docs/benchmarks.md, "Console circuits").
/// </summary>
public sealed class CircuitSettings
{
    public const string Section = "Dashboard:Circuits";

    /// <summary>
    /// How long a disconnected circuit is kept for its tab to reconnect; after it the tab reloads. A minute (ASP.NET's
    /// default is three) covers a dropped network or a restarted proxy; what a console tab loses in a reload is small.
    /// </summary>
    [Range(1, 3600)]
    public int DisconnectedRetentionSeconds { get; set; } = 60;

    /// <summary>
    /// The most disconnected circuits kept at once (ASP.NET's default is 100); past it Blazor drops disconnected circuits without waiting.
    /// At about 3.5 MiB each, 50 kept circuits hold under 200 MiB, less than an idle instance.
    /// </summary>
    [Range(0, 100_000)]
    public int MaxRetainedDisconnected { get; set; } = 50;
}

/// <summary>
/// Counts this instance's circuits: connected ones are open tabs, the rest are disconnected ones kept for
/// <see cref="CircuitSettings.DisconnectedRetentionSeconds"/>. Read by <c>/metrics</c>.
/// </summary>
internal sealed class CircuitCounter : CircuitHandler
{
    private int _open;
    private int _connected;

    public int Open => Volatile.Read(ref _open);

    public int Connected => Volatile.Read(ref _connected);

    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _open);
        return Task.CompletedTask;
    }

    public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        Interlocked.Decrement(ref _open);
        return Task.CompletedTask;
    }

    public override Task OnConnectionUpAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _connected);
        return Task.CompletedTask;
    }

    public override Task OnConnectionDownAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        Interlocked.Decrement(ref _connected);
        return Task.CompletedTask;
    }
}

internal static class CircuitSettingsExtensions
{
    public static void AddCircuitSettings(this IServiceCollection services)
    {
        services.AddOptions<CircuitSettings>().BindConfiguration(CircuitSettings.Section).ValidateDataAnnotations()
            .Validate(o => o.DisconnectedRetentionSeconds is >= 1 and <= 3600, $"{CircuitSettings.Section}:DisconnectedRetentionSeconds must be between 1 and 3600.")
            .Validate(o => o.MaxRetainedDisconnected is >= 0 and <= 100_000, $"{CircuitSettings.Section}:MaxRetainedDisconnected must be between 0 and 100000.")
            .ValidateOnStart();
        services.AddOptions<CircuitOptions>().Configure<Microsoft.Extensions.Options.IOptions<CircuitSettings>>((circuits, settings) =>
        {
            circuits.DisconnectedCircuitRetentionPeriod = TimeSpan.FromSeconds(settings.Value.DisconnectedRetentionSeconds);
            circuits.DisconnectedCircuitMaxRetained = settings.Value.MaxRetainedDisconnected;
        });
        services.AddSingleton<CircuitCounter>();
        services.AddSingleton<CircuitHandler>(provider => provider.GetRequiredService<CircuitCounter>());
    }
}
