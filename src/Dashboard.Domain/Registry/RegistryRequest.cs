namespace Dashboard.Domain.Registry;

/// <summary>What the handlers of the registry client need to know about a request, carried in its options.</summary>
public static class RegistryRequest
{
    private static readonly HttpRequestOptionsKey<RegistryTarget> TargetKey = new("Dashboard.Registry.Target");
    private static readonly HttpRequestOptionsKey<RegistryCall> CallKey = new("Dashboard.Registry.Call");
    private static readonly HttpRequestOptionsKey<string> TriedKey = new("Dashboard.Registry.Tried");

    /// <summary>
    /// A distribution API call: every handler does its job on it. Token and probe requests carry only a target
    /// (<see cref="ForTarget"/>), which picks certificate checking; they go to the wire untouched.
    /// </summary>
    public static HttpRequestMessage ForCall(this HttpRequestMessage request, RegistryTarget target, RegistryCall call)
    {
        request.Options.Set(CallKey, call);
        return request.ForTarget(target);
    }

    public static HttpRequestMessage ForTarget(this HttpRequestMessage request, RegistryTarget target)
    {
        request.Options.Set(TargetKey, target);
        return request;
    }

    public static RegistryTarget? Target(this HttpRequestMessage request) =>
        request.Options.TryGetValue(TargetKey, out var target) ? target : null;

    public static RegistryCall? Call(this HttpRequestMessage request) =>
        request.Options.TryGetValue(CallKey, out var call) ? call : null;

    /// <summary>The places a mirrored call tried before the answer it carries, e.g. <c>mirror.example.com/x (not found), …</c>.</summary>
    public static string? Tried(this HttpRequestMessage request) =>
        request.Options.TryGetValue(TriedKey, out var tried) ? tried : null;

    internal static void SetTried(this HttpRequestMessage request, string tried) => request.Options.Set(TriedKey, tried);
}

/// <summary>
/// A distribution API call: the token scope it needs, whether a redirect to another host (blob storage) is handed back
/// to the caller instead of being followed, and for calls of an image (manifests, blobs) what mirrors would serve.
/// </summary>
public sealed record RegistryCall(string Scope, bool KeepOffload = false, MirrorLookup? Mirror = null);

/// <summary>
/// A call mirrors may answer: the source repository, whether it asks by digest (digest mirrors) or by tag (tag mirrors),
/// and what it fetches, as messages name it.
/// </summary>
public sealed record MirrorLookup(string Repository, bool ByDigest, string What);

/// <summary>A handler that does its job on distribution API calls and passes every other request through.</summary>
public abstract class RegistryCallHandler : DelegatingHandler
{
    protected sealed override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct) =>
        request.Call() is { } call && request.Target() is { } target
            ? SendAsync(request, target, call, ct)
            : base.SendAsync(request, ct);

    protected abstract Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, RegistryTarget target, RegistryCall call, CancellationToken ct);

    /// <summary>The rest of the pipeline, for a handler's own requests (a scheme probe, a token).</summary>
    protected Task<HttpResponseMessage> SendOnAsync(HttpRequestMessage request, CancellationToken ct) => base.SendAsync(request, ct);
}
