using System.Collections.Concurrent;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Registry.Mirrors;
using Dashboard.Domain.Scheduling;
using Dashboard.Tests.Infrastructure;
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
/// The route handler with a mirror route, at the client: a mirror that is rate-limiting (a stand-in that answers 429, which
/// docker-registry never does) is paused on its own and skipped, and the source (a real docker-registry) answers.
/// </summary>
public sealed class MirrorRoutingTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _mirrorHits = new();
    private WebApplication _mirror = null!;
    private RegistryServer _source = null!;
    private string _mirrorHost = null!;

    public async Task InitializeAsync()
    {
        _source = await RegistryServer.StartAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _mirror = builder.Build();
        _mirror.MapGet("/v2/", () => Results.Ok());
        _mirror.MapMethods("/v2/{**path}", ["GET", "HEAD"], (HttpContext context, string path) =>
        {
            _mirrorHits.Enqueue(path);
            context.Response.Headers.RetryAfter = "3600";
            return Results.StatusCode(429);
        });
        await _mirror.StartAsync();
        _mirrorHost = new Uri(_mirror.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Authority;
    }

    public async Task DisposeAsync()
    {
        await _mirror.DisposeAsync();
        await _source.DisposeAsync();
    }

    private RegistryTarget Target()
    {
        RoutePlace[] places =
        [
            new(new MirrorPlace(_mirrorHost, "hub/app", IsMirror: true, Insecure: true), null),
            new(new MirrorPlace(_source.Host, "team/app", IsMirror: false, Insecure: false), null),
        ];
        return new RegistryTarget(_source.Host, Insecure: true) { Mirrors = new MirrorRoute("team/app", places, places) };
    }

    [Fact]
    public async Task A_rate_limiting_mirror_is_paused_on_its_own_skipped_and_the_source_answers()
    {
        var pushed = await ImagePusher.PushImageAsync(_source, "team/app", "1.0");
        var pauses = new RegistryPauses(TimeProvider.System, NullLogger<RegistryPauses>.Instance);
        using var client = RegistryClient.Create(new RegistryOptions { AllowLoopback = true, MaxRetries = 2, MaxRetryAfterSeconds = 5 }, pauses);

        var target = Target();
        var manifest = await client.GetManifestAsync(target, "team/app", "1.0", default);

        Assert.Equal(pushed.Digest, manifest.Digest.ToString());
        Assert.Empty(target.Mirrors!.MirrorsThatAnswered);
        // The mirror's Retry-After is past what a retry waits for: asked once, then paused; the source is not.
        Assert.Equal(["hub/app/manifests/1.0"], _mirrorHits);
        Assert.InRange(pauses.PausedUntil(_mirrorHost)!.Value - DateTime.UtcNow, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
        Assert.Null(pauses.PausedUntil(_source.Host));

        // Paused, the mirror is not asked again; a failure says so among the places tried.
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(Target(), "team/app", "9.9", default));
        Assert.Single(_mirrorHits);
        Assert.Equal(RegistryFailure.NotFound, error.Reason);
        Assert.Contains($"tried {_mirrorHost}/hub/app (paused until ", error.Message);
        Assert.Contains($"{_source.Host}/team/app (not found).", error.Message);
    }
}
