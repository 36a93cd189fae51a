using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Dashboard.Hosting;

/// <summary>The <c>Dashboard:ForwardedHeaders</c> settings: the reverse proxies whose <c>X-Forwarded-*</c> headers are believed.</summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "Dashboard:ForwardedHeaders";

    /// <summary>Proxy addresses, e.g. <c>127.0.0.1</c> for a proxy on the same host.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Proxy networks (CIDR), e.g. <c>10.0.0.0/8</c>.</summary>
    public string[] KnownIPNetworks { get; set; } = [];

    public bool Configured => KnownProxies.Length + KnownIPNetworks.Length > 0;
}

/// <summary>
/// Behind a reverse proxy every caller arrives from the proxy's address — on the same host, loopback, which
/// <c>/metrics</c> and admission's network lists trust. With the proxies named, the client's address comes from
/// <c>X-Forwarded-For</c> as the proxy wrote it (and the scheme from <c>X-Forwarded-Proto</c>); from anyone else those
/// headers are ignored. Nothing named: no forwarded header is read at all.
/// </summary>
internal static class ForwardedHeadersExtensions
{
    public static void AddForwardedHeaders(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ForwardedHeadersSettings>().BindConfiguration(ForwardedHeadersSettings.Section)
            .Validate(s => s.KnownProxies.All(p => IPAddress.TryParse(p, out _)),
                $"{ForwardedHeadersSettings.Section}:KnownProxies holds a value that is not an IP address (e.g. 127.0.0.1).")
            .Validate(s => NetworkAllowList.AreValid(s.KnownIPNetworks),
                $"{ForwardedHeadersSettings.Section}:KnownIPNetworks holds a value that is not a CIDR network (e.g. 10.0.0.0/8).")
            .ValidateOnStart();
    }

    public static void UseForwardedHeadersFromKnownProxies(this WebApplication app)
    {
        var settings = app.Configuration.GetSection(ForwardedHeadersSettings.Section).Get<ForwardedHeadersSettings>() ?? new ForwardedHeadersSettings();
        if (!settings.Configured)
        {
            return;
        }

        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
        // The framework trusts loopback by default; only what the operator named is trusted here.
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in settings.KnownProxies)
        {
            options.KnownProxies.Add(IPAddress.Parse(proxy));
        }

        foreach (var network in settings.KnownIPNetworks)
        {
            options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        }

        app.UseForwardedHeaders(options);
    }
}
