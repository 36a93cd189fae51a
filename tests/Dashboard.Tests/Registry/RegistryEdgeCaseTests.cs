using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Dashboard.Domain.Images;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dashboard.Tests.Registry;

/// <summary>
/// Registry behaviour the real docker-registry cannot be made to show — malformed, oversized or schema 1 manifests
/// (it refuses to store them), tag-list paging (2.8 ignores <c>n</c>), 429 with Retry-After, redirects to other hosts —
/// served by a small stand-in HTTP server. This is a stand-in for those answers only; everything else is tested
/// against the real registry in <see cref="RegistryClientTests"/>.
/// </summary>
public sealed class RegistryEdgeCaseTests : IAsyncLifetime
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    private static readonly byte[] GoodManifest = Encoding.UTF8.GetBytes(
        """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[]}""");

    private static readonly byte[] Sha512Content = "{\"architecture\":\"amd64\"}"u8.ToArray();

    private readonly ConcurrentDictionary<string, int> _hits = new();
    private readonly ConcurrentBag<string?> _redirectedAuthorization = [];
    private WebApplication _server = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _server = builder.Build();
        _server.MapGet("/v2/", () => Results.Ok());
        _server.MapGet("/v2/bad/manifests/1", () => Results.Bytes("this is not json"u8.ToArray(), OciManifest));
        _server.MapGet("/v2/huge/manifests/1", () => Results.Bytes(new byte[5 * 1024 * 1024], OciManifest));
        _server.MapGet("/v2/schema1/manifests/1", () => Results.Bytes("""{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}"""u8.ToArray(),
            "application/vnd.docker.distribution.manifest.v1+prettyjws"));
        _server.MapGet("/v2/lying/manifests/1", (HttpContext context) =>
        {
            context.Response.Headers["Docker-Content-Digest"] = "sha256:" + new string('1', 64);
            return Results.Bytes(GoodManifest, OciManifest);
        });
        _server.MapGet("/v2/paged/tags/list", (HttpContext context) =>
        {
            if (context.Request.Query["last"] == "b")
            {
                return Results.Json(new { name = "paged", tags = new[] { "c" } });
            }

            context.Response.Headers["Link"] = "</v2/paged/tags/list?last=b&n=2>; rel=\"next\"";
            return Results.Json(new { name = "paged", tags = new[] { "a", "b" } });
        });
        _server.MapGet("/v2/limited/manifests/1", (HttpContext context) =>
        {
            context.Response.Headers["RateLimit-Limit"] = "100;w=21600";
            context.Response.Headers["RateLimit-Remaining"] = "7;w=21600";
            if (_hits.AddOrUpdate("limited", 1, (_, n) => n + 1) == 1)
            {
                context.Response.Headers.RetryAfter = "1";
                return Results.StatusCode(429);
            }

            return Results.Bytes(GoodManifest, OciManifest);
        });
        _server.MapGet("/v2/throttled/manifests/1", (HttpContext context) =>
        {
            context.Response.Headers.RetryAfter = "3600";
            return Results.StatusCode(429);
        });
        _server.MapGet("/v2/low/manifests/1", (HttpContext context) =>
        {
            context.Response.Headers["RateLimit-Remaining"] = "2;w=600";
            return Results.Bytes(GoodManifest, OciManifest);
        });
        _server.MapGet("/v2/flaky/manifests/1", () =>
            _hits.AddOrUpdate("flaky", 1, (_, n) => n + 1) == 1 ? Results.StatusCode(503) : Results.Bytes(GoodManifest, OciManifest));
        _server.MapGet("/v2/moved/blobs/{digest}", (HttpContext context, string digest) =>
        {
            // The registry itself needs the login, so the client has credentials at hand when the redirect comes.
            if (context.Request.Headers.Authorization.Count == 0)
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"stand-in\"";
                return Results.StatusCode(401);
            }

            return Results.Redirect($"http://localhost:{_port}/storage/{digest}", permanent: false, preserveMethod: true);
        });
        // Any blob asked for, with the same content whatever the digest: right for one digest, wrong for every other.
        _server.MapGet("/v2/anything/blobs/{digest}", () => Results.Bytes(Sha512Content, "application/octet-stream"));
        _server.MapGet("/storage/{digest}", (HttpContext context) =>
        {
            _redirectedAuthorization.Add(context.Request.Headers.Authorization.FirstOrDefault());
            return Results.Bytes("{}"u8.ToArray(), "application/octet-stream");
        });
        await _server.StartAsync();
        _port = new Uri(_server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private RegistryTarget Target => new($"127.0.0.1:{_port}", Insecure: true, new RegistryCredential("user", "secret-password"));

    private static RegistryClient Client(RegistryPauses? pauses = null) =>
        RegistryClient.Create(new RegistryOptions { AllowLoopback = true, MaxRetries = 2, MaxRetryAfterSeconds = 5 }, pauses);

    /// <summary>The pauses the scheduler reads, as the client's rate-limit observer reports them.</summary>
    private static RegistryPauses Pauses() => new(TimeProvider.System, NullLogger<RegistryPauses>.Instance);

    [Theory]
    [InlineData("bad", "not valid JSON")]
    [InlineData("huge", "larger than 4 MiB")]
    [InlineData("schema1", "manifest schema 1 is not supported")]
    [InlineData("lying", "but the registry says")]
    public async Task A_bad_manifest_is_an_invalid_manifest_error_with_a_clear_message(string repository, string expected)
    {
        using var client = Client();
        var error = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            var manifest = await client.GetManifestAsync(Target, repository, "1", default);
            ManifestDocument.Parse(manifest.Content, manifest.MediaType);
        });
        Assert.Equal(RegistryFailure.InvalidManifest, error.Reason);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task Tag_lists_follow_link_pages()
    {
        using var client = Client();
        Assert.Equal(["a", "b", "c"], (await client.ListTagsAsync(Target, "paged", default)).Tags);
    }

    /// <summary>Issue 12, finding 5: a tag listing stops at its bound, says it was cut, and asks for no further page.</summary>
    [Fact]
    public async Task Finding_5_a_tag_listing_stops_at_its_bound_and_says_it_was_cut()
    {
        using var client = Client();
        var whole = await client.ListTagsAsync(Target, "paged", default, maxTags: 3);
        Assert.Equal(["a", "b", "c"], whole.Tags);
        Assert.False(whole.Cut);

        var before = client.RequestCount;
        var cut = await client.ListTagsAsync(Target, "paged", default, maxTags: 2);
        Assert.Equal(["a", "b"], cut.Tags);
        Assert.True(cut.Cut);
        Assert.Equal(1, client.RequestCount - before);
    }

    [Fact]
    public async Task A_429_is_retried_after_the_time_asked_and_rate_limit_headers_are_recorded()
    {
        var pauses = Pauses();
        using var client = Client(pauses);
        var manifest = await client.GetManifestAsync(Target, "limited", "1", default);
        Assert.Equal(Digest.Sha256(GoodManifest), manifest.Digest);
        Assert.Equal(2, _hits["limited"]);
        var state = pauses.RateLimits[Target.Registry];
        Assert.Equal((100, 7), (state.Limit, state.Remaining));
    }

    [Fact]
    public async Task A_registry_that_asks_for_a_long_wait_or_runs_low_on_quota_is_paused_for_scheduled_work()
    {
        var pauses = Pauses();
        using var client = Client(pauses);
        Assert.Null(pauses.PausedUntil(Target.Registry));
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(Target, "throttled", "1", default));
        Assert.Equal(RegistryFailure.RateLimited, error.Reason);
        Assert.InRange(pauses.PausedUntil(Target.Registry)!.Value - DateTime.UtcNow, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));

        var otherPauses = Pauses();
        using var other = Client(otherPauses);
        await other.GetManifestAsync(Target, "low", "1", default);
        Assert.InRange(otherPauses.PausedUntil(Target.Registry)!.Value - DateTime.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(11));
    }

    [Fact]
    public async Task A_5xx_is_retried_with_backoff()
    {
        using var client = Client();
        await client.GetManifestAsync(Target, "flaky", "1", default);
        Assert.Equal(2, _hits["flaky"]);
    }

    /// <summary>Issue 12, finding 4: a sha512 digest is verified with sha512, not waved through.</summary>
    [Fact]
    public async Task Finding_4_a_sha512_blob_is_verified_against_its_digest()
    {
        using var client = Client();
        var right = Digest.Parse("sha512:" + Convert.ToHexStringLower(SHA512.HashData(Sha512Content)));
        Assert.Equal(Sha512Content, await client.GetBlobAsync(Target, "anything", right, 1024, default));

        var wrong = Digest.Parse("sha512:" + new string('e', 128));
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetBlobAsync(Target, "anything", wrong, 1024, default));
        Assert.Equal(RegistryFailure.InvalidManifest, error.Reason);
        Assert.Contains("does not match its digest", error.Message);
    }

    [Fact]
    public async Task A_redirect_to_another_host_carries_no_credentials()
    {
        using var client = Client();
        await client.GetBlobAsync(Target, "moved", Digest.Sha256("{}"u8), 1024, default);
        Assert.Single(_redirectedAuthorization);
        Assert.Null(_redirectedAuthorization.Single());
    }
}
