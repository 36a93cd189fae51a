using Dashboard.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dashboard.Tests.Hosting;

/// <summary><c>Dashboard:Circuits</c> reaches Blazor's own <see cref="CircuitOptions"/>, and a wrong value names its key.</summary>
public sealed class CircuitSettingsTests
{
    [Fact]
    public void Configured_retention_and_limit_reach_Blazors_circuit_options()
    {
        using var services = Console(new()
        {
            ["Dashboard:Circuits:DisconnectedRetentionSeconds"] = "45",
            ["Dashboard:Circuits:MaxRetainedDisconnected"] = "250",
        });

        var options = services.GetRequiredService<IOptions<CircuitOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(45), options.DisconnectedCircuitRetentionPeriod);
        Assert.Equal(250, options.DisconnectedCircuitMaxRetained);
    }

    [Fact]
    public void Unset_the_defaults_of_the_settings_apply()
    {
        using var services = Console([]);

        var options = services.GetRequiredService<IOptions<CircuitOptions>>().Value;

        var defaults = new CircuitSettings();
        Assert.Equal(TimeSpan.FromSeconds(defaults.DisconnectedRetentionSeconds), options.DisconnectedCircuitRetentionPeriod);
        Assert.Equal(defaults.MaxRetainedDisconnected, options.DisconnectedCircuitMaxRetained);
    }

    [Fact]
    public void A_retention_of_zero_is_refused_with_the_key_named()
    {
        using var services = Console(new() { ["Dashboard:Circuits:DisconnectedRetentionSeconds"] = "0" });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<CircuitSettings>>().Value);

        Assert.Contains(error.Failures, f => f.Contains("Dashboard:Circuits:DisconnectedRetentionSeconds"));
    }

    [Fact]
    public void The_circuit_counter_is_the_handler_Blazor_calls()
    {
        using var services = Console([]);

        Assert.Contains(services.GetRequiredService<CircuitCounter>(), services.GetServices<CircuitHandler>());
    }

    /// <summary>The console's registrations as Program.cs makes them, on the given settings.</summary>
    private static ServiceProvider Console(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddConsole();
        return builder.Services.BuildServiceProvider();
    }
}
