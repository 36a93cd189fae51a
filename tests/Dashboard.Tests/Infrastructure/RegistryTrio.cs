namespace Dashboard.Tests.Infrastructure;

/// <summary>The three real registries the registry and import tests use: open, behind htpasswd, behind a token service.</summary>
public sealed class RegistryTrio : IAsyncDisposable
{
    private RegistryTrio(RegistryServer open, RegistryServer basic, RegistryServer token) => (Open, Basic, Token) = (open, basic, token);

    public RegistryServer Open { get; set; }

    public RegistryServer Basic { get; }

    public RegistryServer Token { get; }

    public static async Task<RegistryTrio> StartAsync()
    {
        var servers = await Task.WhenAll(
            RegistryServer.StartAsync(RegistryAuth.None), RegistryServer.StartAsync(RegistryAuth.Basic), RegistryServer.StartAsync(RegistryAuth.Token));
        return new RegistryTrio(servers[0], servers[1], servers[2]);
    }

    public async ValueTask DisposeAsync()
    {
        await Open.DisposeAsync();
        await Basic.DisposeAsync();
        await Token.DisposeAsync();
    }
}
