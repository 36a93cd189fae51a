using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Admission;

/// <summary>
/// The admission endpoints on a port of their own over HTTPS with a certificate from PEM files, as a cluster's API server
/// requires, and the registry endpoint on another; the real Kestrel, a real TLS handshake, a bearer token.
/// </summary>
public sealed class AdmissionPortTests : IAsyncLifetime
{
    private const string Token = "the-api-servers-admission-token";
    private readonly string _directory = Directory.CreateTempSubdirectory("dashboard-admission-").FullName;
    private readonly int _port = RegistryServer.FreePort();
    private readonly int _registryPort = RegistryServer.FreePort();
    private X509Certificate2 _certificate = null!;
    private Factory _app = null!;

    public Task InitializeAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=dashboard-admission", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(_directory, "tls.crt"), _certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_directory, "tls.key"), key.ExportPkcs8PrivateKeyPem());
        _app = new Factory(_directory, _port, _registryPort);
        _app.UseKestrel();
        _app.StartServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Hangfire may hold its file a moment longer.
        }
    }

    [Fact]
    public async Task The_api_server_reaches_admission_over_tls_on_its_port_with_the_token_and_the_app_port_does_not_serve_it()
    {
        // The API server trusts the caBundle of the webhook configuration: here, exactly this certificate.
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == _certificate.Thumbprint,
        };
        using var apiServer = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{_port}") };
        var review = AdmissionReviewTests.Review("Pod", """{"metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}}""");

        using var without = await apiServer.PostAsync("/admission/validate", new StringContent(review, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/admission/validate") { Content = new StringContent(review, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", Token);
        using var answer = await apiServer.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.True(JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("response").GetProperty("allowed").GetBoolean());

        // The admission port serves admission and health only: no console, API or Hangfire for whoever reaches it.
        using var onAdmissionPort = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces");
        onAdmissionPort.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:Admin-Passw0rd!-admission")));
        Assert.Equal(HttpStatusCode.NotFound, (await apiServer.SendAsync(onAdmissionPort)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await apiServer.GetAsync("/account/login")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await apiServer.GetAsync("/healthz")).StatusCode);

        var appAddress = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First(a => a.StartsWith("http://"));
        using var console = new HttpClient { BaseAddress = new Uri(appAddress) };
        using var onAppPort = new HttpRequestMessage(HttpMethod.Post, "/admission/validate") { Content = new StringContent(review, Encoding.UTF8, "application/json") };
        onAppPort.Headers.Authorization = new("Bearer", Token);
        Assert.NotEqual(HttpStatusCode.OK, (await console.SendAsync(onAppPort)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await console.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task The_registry_endpoint_answers_on_its_own_port_and_only_there()
    {
        using var registry = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_registryPort}") };
        var challenge = await registry.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await registry.GetAsync("/account/login")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await registry.GetAsync("/api/v1/namespaces")).StatusCode);
        Assert.Contains($"realm=\"http://127.0.0.1:{_registryPort}/v2/token\"", challenge.Headers.WwwAuthenticate.ToString());

        var appAddress = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First(a => a.StartsWith("http://")
            && !a.EndsWith($":{_registryPort}"));
        using var console = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(appAddress) };
        // On the app's own port /v2/ is just another console address: a redirect to the sign-in page, no registry challenge.
        var elsewhere = await console.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Redirect, elsewhere.StatusCode);
        Assert.DoesNotContain("Bearer", elsewhere.Headers.WwwAuthenticate.ToString());
    }


    private sealed class Factory(string directory, int port, int registryPort) : WebApplicationFactory<Program>
    {
        private readonly TestDatabase _database = TestDatabase.Create();

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await _database.DisposeAsync();
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Urls", "http://127.0.0.1:0");
            builder.UseSetting("Dashboard:DataDirectory", Path.Combine(directory, "data"));
            _database.Configure(builder);
            builder.UseSetting("Dashboard:Bootstrap:AdminPassword", "Admin-Passw0rd!-admission");
            builder.UseSetting("Dashboard:Admission:Port", port.ToString());
            builder.UseSetting("Dashboard:Admission:CertificateFile", Path.Combine(directory, "tls.crt"));
            builder.UseSetting("Dashboard:Admission:KeyFile", Path.Combine(directory, "tls.key"));
            builder.UseSetting("Dashboard:Admission:BearerToken", Token);
            // Both cluster-facing endpoints on ports of their own at once: the registry's over plain HTTP.
            builder.UseSetting("Dashboard:Proxy:Port", registryPort.ToString());
        }
    }
}
