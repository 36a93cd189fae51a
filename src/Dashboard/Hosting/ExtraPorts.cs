using System.Net;
using System.Security.Cryptography.X509Certificates;
using Dashboard.Admission;

namespace Dashboard.Hosting;

/// <summary>Ports of their own for the cluster-facing endpoints (admission, registry), beside the app's own addresses.</summary>
internal static class ExtraPorts
{
    private const string UrlsReAdded = "Dashboard.ExtraPorts.UrlsReAdded";

    /// <summary>
    /// Listens on <paramref name="port"/> too, over HTTPS when a certificate is given. Kestrel ignores <c>Urls</c> once a
    /// listener is configured in code, so the first extra port adds the app's own addresses back.
    /// </summary>
    public static void ListenAlsoOn(this WebApplicationBuilder builder, int port, X509Certificate2? certificate)
    {
        var first = !builder.Host.Properties.ContainsKey(UrlsReAdded);
        builder.Host.Properties[UrlsReAdded] = true;
        var urls = first ? builder.Configuration["Urls"] ?? builder.Configuration["ASPNETCORE_URLS"] ?? "" : "";
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                var uri = new Uri(url.Replace("*", "0.0.0.0").Replace("+", "0.0.0.0"));
                var address = uri.Host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(uri.Host.Trim('[', ']'));
                kestrel.Listen(address, uri.Port);
            }

            kestrel.ListenAnyIP(port, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });
    }

    /// <summary>
    /// Serves the endpoints only on <paramref name="port"/>: routing matches them there by the Host header, and the
    /// connection's own port is checked too, since a Host header is whatever the client writes.
    /// </summary>
    public static TBuilder OnlyOnPort<TBuilder>(this TBuilder builder, int port) where TBuilder : IEndpointConventionBuilder
    {
        builder.RequireHost($"*:{port}");
        builder.AddEndpointFilter(async (context, next) =>
            context.HttpContext.Connection.LocalPort == port ? await next(context) : Results.NotFound());
        return builder;
    }

    /// <summary>
    /// A port of its own serves its own endpoints and health only: the console, the API and Hangfire are not reachable
    /// on the admission or registry port (opened to a cluster's API server or nodes), whatever path is asked for.
    /// </summary>
    public static void UseExtraPortsForTheirEndpointsOnly(this WebApplication app)
    {
        var admission = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AdmissionOptions>>().Value.Port;
        var registry = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Dashboard.Domain.Proxy.ProxyOptions>>().Value.Port;
        if (admission == 0 && registry == 0)
        {
            return;
        }

        app.Use((context, next) =>
        {
            var port = context.Connection.LocalPort;
            var path = context.Request.Path;
            var elsewhere = (admission > 0 && port == admission && !path.StartsWithSegments("/admission"))
                || (registry > 0 && port == registry && !path.StartsWithSegments("/v2"));
            if (elsewhere && !path.StartsWithSegments("/healthz"))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
    }

    public static X509Certificate2? Certificate(string? certificateFile, string? keyFile) =>
        File.Exists(certificateFile) && File.Exists(keyFile) ? X509Certificate2.CreateFromPemFile(certificateFile, keyFile) : null;
}
