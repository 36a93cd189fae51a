using Microsoft.AspNetCore.Hosting;

namespace Dashboard.Tests.Infrastructure;

/// <summary>A test class's own app (its own settings or services, so not the shared fixture) and an open registry beside it.</summary>
public sealed class AppWithRegistry(Action<IWebHostBuilder> configure) : IAsyncLifetime
{
    public DashboardFactory App { get; } = new() { Configure = configure };

    public RegistryServer Registry { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await App.InitializeAsync();
        Registry = await RegistryServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        await App.DisposeAsync();
    }
}
