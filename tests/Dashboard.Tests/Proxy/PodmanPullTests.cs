using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Proxy;

/// <summary>Debian's podman (vfs storage of the tests' own, plain HTTP) pulls through the dashboard's registry endpoint.</summary>
[Collection(RealClientsCollection.Name)]
[Trait("Category", "Clients")]
public sealed class PodmanPullTests(RealClientsFixture clients)
{
    [Fact]
    public async Task Podman_pulls_a_tag_with_a_personal_access_token_and_refuses_a_wrong_one()
    {
        var pushed = await clients.PublishAsync("shop", "podman", "podman-token");
        var token = await clients.AccessTokenAsync("podman");
        var image = $"{clients.Host}/shop/web:podman";

        var refused = await clients.Podman.RunAsync("pull", "--tls-verify=false", "--creds", $"{RealClientsFixture.Member}:not-a-token", image);
        Assert.False(refused.Succeeded, refused.ToString());
        Assert.Contains("unauthorized", refused.Output, StringComparison.OrdinalIgnoreCase);

        var pull = await clients.Podman.RunAsync("pull", "--tls-verify=false", "--creds", $"{RealClientsFixture.Member}:{token}", image);

        Assert.True(pull.Succeeded, pull.ToString());
        var inspect = await clients.Podman.RunAsync("image", "inspect", "--format", "{{.Digest}}", image);
        Assert.True(inspect.Succeeded, inspect.ToString());
        Assert.Equal(pushed.Digest, inspect.Output.Trim());
    }
}
