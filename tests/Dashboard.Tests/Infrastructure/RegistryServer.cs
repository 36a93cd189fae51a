using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dashboard.Tests.Infrastructure;

public enum RegistryAuth
{
    None,
    Basic,
    Token,
}

/// <summary>
/// A real registry: Debian's <c>docker-registry</c> (distribution 2.8) on a free loopback port with temporary storage,
/// open, behind htpasswd Basic auth, or behind Bearer tokens from a token service this fixture runs (RS256 JWTs
/// signed with a throwaway certificate that the registry trusts).
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    public const string User = "puller";
    public const string Password = "Pull-Passw0rd!";

    private readonly string _directory;
    private Process _process;
    private readonly WebApplication? _tokenService;
    private readonly TokenIssuer? _issuer;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _requests = new();

    private RegistryServer(string directory, int port, WebApplication? tokenService, TokenIssuer? issuer, RegistryAuth auth)
    {
        _directory = directory;
        _process = Serve(directory, _requests);
        Port = port;
        _tokenService = tokenService;
        _issuer = issuer;
        Auth = auth;
    }

    public int Port { get; }

    public RegistryAuth Auth { get; }

    /// <summary>host:port, as an image reference names the registry.</summary>
    public string Host => $"127.0.0.1:{Port}";

    /// <summary>
    /// Every request the registry answered, as <c>METHOD /path status</c>, from its access log (whoever sent it: this test
    /// process or an app in a process of its own). A line appears a moment after its response.
    /// </summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    /// <summary>How many tokens the token service was asked for.</summary>
    public int TokenRequests => _issuer?.Requests ?? 0;

    /// <summary>The registry's storage (filesystem driver layout), e.g. for a file server its redirects point at.</summary>
    public string StoreDirectory => Path.Combine(_directory, "store");

    /// <param name="auth">How clients log in.</param>
    /// <param name="redirectTo">
    /// A base URL for the registry's <c>redirect</c> storage middleware: blob reads are answered with a redirect to
    /// <c>redirectTo + storage path</c>, as registries on S3 or behind a CDN do (content offload).
    /// </param>
    public static async Task<RegistryServer> StartAsync(RegistryAuth auth = RegistryAuth.None, string? redirectTo = null)
    {
        var directory = Directory.CreateTempSubdirectory("registry-").FullName;
        var port = FreePort();
        var authConfig = "";
        WebApplication? tokenService = null;
        TokenIssuer? issuer = null;
        if (auth == RegistryAuth.Basic)
        {
            var htpasswd = Process.Start(new ProcessStartInfo("htpasswd", ["-Bbn", User, Password]) { RedirectStandardOutput = true })!;
            await File.WriteAllTextAsync(Path.Combine(directory, "htpasswd"), await htpasswd.StandardOutput.ReadToEndAsync());
            await htpasswd.WaitForExitAsync();
            authConfig = $"auth: {{htpasswd: {{realm: test, path: {directory}/htpasswd}}}}";
        }
        else if (auth == RegistryAuth.Token)
        {
            using var key = RSA.Create(2048);
            var certificate = new CertificateRequest("CN=test-token-issuer", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(Path.Combine(directory, "ca.pem"), certificate.ExportCertificatePem());
            var signer = RSA.Create();
            signer.ImportParameters(key.ExportParameters(includePrivateParameters: true));
            issuer = new TokenIssuer(certificate, signer);
            tokenService = await StartTokenServiceAsync(issuer);
            var realm = tokenService.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/token";
            authConfig = $"auth: {{token: {{realm: {realm}, service: test-registry, issuer: test-issuer, rootcertbundle: {directory}/ca.pem}}}}";
        }

        var config = $"""
            version: 0.1
            log: {"{"}level: error{"}"}
            storage: {"{"}filesystem: {"{"}rootdirectory: {directory}/store{"}"}, delete: {"{"}enabled: true{"}"}, cache: {"{"}blobdescriptor: inmemory{"}"}{"}"}
            http: {"{"}addr: 127.0.0.1:{port}{"}"}
            health: {"{"}storagedriver: {"{"}enabled: false{"}"}{"}"}
            {authConfig}
            {(redirectTo is null ? "" : $"middleware: {{storage: [{{name: redirect, options: {{baseurl: \"{redirectTo}\"}}}}]}}")}
            """;
        await File.WriteAllTextAsync(Path.Combine(directory, "config.yml"), config);
        var server = new RegistryServer(directory, port, tokenService, issuer, auth);
        await server.WaitUntilListeningAsync();
        return server;
    }

    /// <summary>Stops the registry process (connections are refused); its content stays for <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Starts the registry again on the same port with the same content.</summary>
    public async Task RestartAsync()
    {
        _process.Dispose();
        _process = Serve(_directory, _requests);
        await WaitUntilListeningAsync();
    }

    private static Process Serve(string directory, System.Collections.Concurrent.ConcurrentQueue<string> requests)
    {
        var process = Process.Start(new ProcessStartInfo("docker-registry", ["serve", Path.Combine(directory, "config.yml")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("docker-registry did not start; is Debian's docker-registry package installed?");
        // The access log (stdout, combined format): 127.0.0.1 - - [date] "HEAD /v2/team/app/manifests/1 HTTP/1.1" 200 …
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is { } text && text.IndexOf('"') is >= 0 and var quote && text.IndexOf(" HTTP/", quote, StringComparison.Ordinal) is > 0 and var end
                && text.IndexOf("\" ", end, StringComparison.Ordinal) is > 0 and var status)
            {
                requests.Enqueue(text[(quote + 1)..end] + " " + text[(status + 2)..].Split(' ')[0]);
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>A client for pushing test content, logged in when the registry needs it.</summary>
    public HttpClient Pusher(string repository)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://{Host}") };
        client.DefaultRequestHeaders.Authorization = Auth switch
        {
            RegistryAuth.Basic => new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"))),
            RegistryAuth.Token => new AuthenticationHeaderValue("Bearer", _issuer!.Issue(repository, ["pull", "push"])),
            _ => null,
        };
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (_tokenService is not null)
        {
            await _tokenService.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private async Task WaitUntilListeningAsync()
    {
        using var client = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var response = await client.GetAsync($"http://{Host}/v2/");
                return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                // Started but not yet listening: the registry needs some tens of milliseconds.
                await Task.Delay(20);
            }
        }
    }

    /// <summary>A loopback port nobody listens on now (for servers the tests start).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>distribution's token service contract: Basic credentials in, a JWT for the asked scope out.</summary>
    private static async Task<WebApplication> StartTokenServiceAsync(TokenIssuer issuer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/token", (HttpContext context) =>
        {
            Interlocked.Increment(ref issuer.Requests);
            var header = context.Request.Headers.Authorization.ToString();
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
            if (header != expected)
            {
                return Results.Unauthorized();
            }

            var scope = context.Request.Query["scope"].ToString();
            var parts = scope.Split(':');
            var token = parts.Length == 3 ? issuer.Issue(parts[1], parts[2].Split(',')) : issuer.Issue("", []);
            return Results.Json(new { token, expires_in = 300 });
        });
        await app.StartAsync();
        return app;
    }

    private sealed class TokenIssuer(X509Certificate2 certificate, RSA signer)
    {
        public int Requests;

        public string Issue(string repository, string[] actions)
        {
            static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var header = JsonSerializer.SerializeToUtf8Bytes(new { alg = "RS256", typ = "JWT", x5c = new[] { Convert.ToBase64String(certificate.RawData) } });
            var claims = JsonSerializer.SerializeToUtf8Bytes(new
            {
                iss = "test-issuer",
                sub = User,
                aud = "test-registry",
                exp = now + 300,
                nbf = now - 10,
                iat = now,
                jti = Guid.NewGuid().ToString(),
                access = repository.Length == 0 ? [] : new[] { new { type = "repository", name = repository, actions } },
            });
            var unsigned = B64(header) + "." + B64(claims);
            var signature = signer.SignData(Encoding.ASCII.GetBytes(unsigned), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            return unsigned + "." + B64(signature);
        }
    }
}
