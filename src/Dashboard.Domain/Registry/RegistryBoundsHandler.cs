namespace Dashboard.Domain.Registry;

/// <summary>
/// Holds each attempt to the registry's bounds (<see cref="RegistryThrottle"/>). The slot is held until the answer's
/// headers arrive: bodies are small (manifests, configs) and capped.
/// </summary>
public sealed class RegistryBoundsHandler(RegistryThrottle throttle) : RegistryCallHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, RegistryTarget target, RegistryCall call, CancellationToken ct)
    {
        using var slot = await throttle.EnterAsync(target.Registry, ct);
        return await SendOnAsync(request, ct);
    }
}
