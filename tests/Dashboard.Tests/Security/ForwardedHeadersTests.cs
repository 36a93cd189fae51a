using System.Net;
using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Security;

/// <summary>
/// Issue 12, finding 9: behind a reverse proxy on the same host every caller is loopback, which <c>/metrics</c> trusts.
/// With the proxy named, the client's address is the one the proxy forwarded; without, the header is nobody's word.
/// The real Kestrel on loopback plays the proxy's connection.
/// </summary>
public sealed class ForwardedHeadersTests
{
    [Fact]
    public async Task Finding_9_behind_a_named_proxy_metrics_judge_the_forwarded_client_not_the_proxy()
    {
        await using var app = new KestrelDashboard(new Dictionary<string, string> { ["Dashboard:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" });
        using var proxy = app.From(IPAddress.Loopback);

        Assert.Equal(HttpStatusCode.OK, (await proxy.SendAsync(Metrics(forwardedFor: "127.0.0.1"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await proxy.SendAsync(Metrics(forwardedFor: "203.0.113.9"))).StatusCode);
    }

    [Fact]
    public async Task Without_a_named_proxy_a_forwarded_header_changes_nothing()
    {
        await using var app = new KestrelDashboard();
        using var direct = app.From(IPAddress.Loopback);

        Assert.Equal(HttpStatusCode.OK, (await direct.SendAsync(Metrics(forwardedFor: "203.0.113.9"))).StatusCode);
    }

    private static HttpRequestMessage Metrics(string forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return request;
    }
}
