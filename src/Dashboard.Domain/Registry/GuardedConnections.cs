using System.Net;

namespace Dashboard.Domain.Registry;

/// <summary>
/// The registry client's primary handler: every connection through the <see cref="OutboundGuard"/> at connect time, no
/// automatic redirects (<see cref="RedirectHandler"/> decides), no proxy, no cookies. Two pools: one that checks
/// certificates, and one that does not for insecure sources, chosen by the request's target as routed (a mirror's own
/// setting counts). A connection made without checks never serves a request that needs them.
/// </summary>
public sealed class GuardedConnections(RegistryOptions options) : HttpMessageHandler
{
    private readonly HttpMessageInvoker _checked = new(Connections(options, verifyTls: true));
    private readonly HttpMessageInvoker _unchecked = new(Connections(options, verifyTls: false));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct) =>
        (request.Target()?.Insecure == true ? _unchecked : _checked).SendAsync(request, ct);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _checked.Dispose();
            _unchecked.Dispose();
        }

        base.Dispose(disposing);
    }

    private static SocketsHttpHandler Connections(RegistryOptions options, bool verifyTls)
    {
        var handler = new OutboundGuard(options.AllowLoopback).CreateHandler();
        handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5);
        handler.ConnectTimeout = TimeSpan.FromSeconds(Math.Min(options.RequestTimeoutSeconds, 15));
        handler.AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate;
        if (!verifyTls)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }

        return handler;
    }
}
