using System.Net;
using System.Security.Cryptography.X509Certificates;

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

    public static X509Certificate2? Certificate(string? certificateFile, string? keyFile) =>
        File.Exists(certificateFile) && File.Exists(keyFile) ? X509Certificate2.CreateFromPemFile(certificateFile, keyFile) : null;
}
