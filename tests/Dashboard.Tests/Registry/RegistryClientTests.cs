using Dashboard.Domain.Images;
using Dashboard.Domain.Registry;
using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Registry;

/// <summary>The registry client against real distribution registries started by the test.</summary>
public sealed class RegistryClientTests : IAsyncLifetime
{
    private RegistryTrio _registries = null!;

    private RegistryServer OpenRegistry { get => _registries.Open; set => _registries.Open = value; }

    private RegistryServer BasicRegistry => _registries.Basic;

    private RegistryServer TokenRegistry => _registries.Token;

    public async Task InitializeAsync() => _registries = await RegistryTrio.StartAsync();

    public async Task DisposeAsync() => await _registries.DisposeAsync();

    private static RegistryClient Client(bool allowLoopback = true) =>
        RegistryClient.Create(new RegistryOptions { AllowLoopback = allowLoopback, MaxRetries = 1 });

    private static readonly RegistryCredential Right = new(RegistryServer.User, RegistryServer.Password);

    [Fact]
    public async Task A_manifest_and_its_config_are_read_and_the_digest_verified()
    {
        var pushed = await ImagePusher.PushImageAsync(OpenRegistry, "team/app", "1.0", new Dictionary<string, string> { ["version"] = "1.0" });
        using var client = Client();
        var target = new RegistryTarget(OpenRegistry.Host, Insecure: true);

        var manifest = await client.GetManifestAsync(target, "team/app", "1.0", default);
        Assert.Equal(pushed.Digest, manifest.Digest.ToString());
        Assert.Equal(ImagePusher.OciManifest, manifest.MediaType);
        var document = ManifestDocument.Parse(manifest.Content, manifest.MediaType);
        var config = ImageConfigDocument.Parse(await client.GetBlobAsync(target, "team/app", document.Config!.Digest, RegistryClient.MaxConfigBytes, default));
        Assert.Equal("1.0", config.Labels["version"]);
        Assert.Equal("amd64", config.Architecture);
        Assert.Equal(manifest.Digest, await client.HeadManifestAsync(target, "team/app", "1.0", default));
        Assert.Equal(["1.0"], (await client.ListTagsAsync(target, "team/app", default)).Tags);
    }

    [Fact]
    public async Task Basic_auth_needs_the_right_credentials_and_says_so()
    {
        await ImagePusher.PushImageAsync(BasicRegistry, "private/app", "v1");
        using var client = Client();

        var anonymous = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(new RegistryTarget(BasicRegistry.Host, true), "private/app", "v1", default));
        Assert.Equal(RegistryFailure.Unauthorized, anonymous.Reason);
        Assert.Contains("pull secret", anonymous.Message);

        var wrong = await Assert.ThrowsAsync<RegistryException>(() =>
            client.GetManifestAsync(new RegistryTarget(BasicRegistry.Host, true, Right with { Password = "nope-nope-nope" }), "private/app", "v1", default));
        Assert.Equal(RegistryFailure.Unauthorized, wrong.Reason);
        Assert.Contains("'puller'", wrong.Message);
        Assert.DoesNotContain("nope-nope-nope", wrong.Message);

        var manifest = await client.GetManifestAsync(new RegistryTarget(BasicRegistry.Host, true, Right), "private/app", "v1", default);
        Assert.StartsWith("sha256:", manifest.Digest.ToString());
    }

    [Fact]
    public async Task Bearer_tokens_come_from_the_realm_and_are_reused_for_the_same_scope()
    {
        await ImagePusher.PushImageAsync(TokenRegistry, "secure/app", "v1");
        await ImagePusher.PushImageAsync(TokenRegistry, "secure/app", "v2");
        using var client = Client();
        var target = new RegistryTarget(TokenRegistry.Host, true, Right);
        var before = TokenRegistry.TokenRequests;

        await client.GetManifestAsync(target, "secure/app", "v1", default);
        await client.GetManifestAsync(target, "secure/app", "v2", default);
        await client.HeadManifestAsync(target, "secure/app", "v1", default);

        Assert.Equal(1, TokenRegistry.TokenRequests - before);

        var wrong = await Assert.ThrowsAsync<RegistryException>(() =>
            client.GetManifestAsync(new RegistryTarget(TokenRegistry.Host, true, Right with { Password = "bad-bad-bad" }), "secure/app", "v1", default));
        Assert.Equal(RegistryFailure.Unauthorized, wrong.Reason);
        Assert.Contains("token service", wrong.Message);
    }

    [Fact]
    public async Task A_missing_tag_is_not_found_with_the_registrys_reason()
    {
        using var client = Client();
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(new RegistryTarget(OpenRegistry.Host, true), "team/none", "v9", default));
        Assert.Equal(RegistryFailure.NotFound, error.Reason);
        Assert.Contains("team/none:v9", error.Message);
    }

    [Fact]
    public async Task Loopback_registries_are_refused_unless_allowed_and_link_local_always()
    {
        using var client = Client(allowLoopback: false);
        var loopback = await Assert.ThrowsAsync<RegistryException>(() => client.PingAsync(new RegistryTarget(OpenRegistry.Host, true), default));
        Assert.Equal(RegistryFailure.Forbidden, loopback.Reason);
        Assert.Contains("AllowLoopback", loopback.Message);

        using var permissive = Client(allowLoopback: true);
        var metadata = await Assert.ThrowsAsync<RegistryException>(() => permissive.PingAsync(new RegistryTarget("169.254.169.254", true), default));
        Assert.Equal(RegistryFailure.Forbidden, metadata.Reason);
        Assert.Contains("metadata", metadata.Message);
    }

    [Fact]
    public async Task An_unreachable_registry_is_reported_as_unreachable()
    {
        using var client = Client();
        await OpenRegistry.DisposeAsync();
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.PingAsync(new RegistryTarget(OpenRegistry.Host, true), default));
        Assert.Equal(RegistryFailure.Unreachable, error.Reason);
        OpenRegistry = await RegistryServer.StartAsync();
    }
}
