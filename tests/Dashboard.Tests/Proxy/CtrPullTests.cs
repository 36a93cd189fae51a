using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Proxy;

/// <summary>
/// containerd's own client, <c>ctr</c> (from Debian's containerd, which docker.io brings), pulls through the dashboard's
/// registry endpoint into the containerd of the tests' dockerd and unpacks with the native snapshotter.
/// </summary>
[Collection(RealClientsCollection.Name)]
[Trait("Category", "Clients")]
public sealed class CtrPullTests(RealClientsFixture clients)
{
    [Fact]
    public async Task Ctr_pulls_and_unpacks_a_multi_platform_index_with_a_members_password()
    {
        var (index, amd64, _) = await ImagePusher.PushIndexAsync(clients.Upstream, "team/web", "ctr-multi");
        await clients.TagAsync("shop", "ctr", $"{clients.Upstream.Host}/team/web:ctr-multi");
        var image = $"{clients.Host}/shop/web:ctr";

        var refused = await clients.Docker.CtrAsync("images", "pull", "--plain-http", "--user", $"{RealClientsFixture.Member}:wrong-password", image);
        Assert.False(refused.Succeeded, refused.ToString());
        Assert.Contains("401 Unauthorized", refused.Output);

        var pull = await clients.Docker.CtrAsync("images", "pull", "--plain-http", "--snapshotter", "native", "--platform", "linux/amd64",
            "--user", $"{RealClientsFixture.Member}:{RealClientsFixture.UserPassword}", image);

        Assert.True(pull.Succeeded, pull.ToString());
        Assert.Contains($"unpacking linux/amd64 {index.Digest}", pull.Output);
        var listed = await clients.Docker.CtrAsync("images", "ls", $"name=={image}");
        Assert.True(listed.Succeeded, listed.ToString());
        var row = listed.Output.Split('\n').Single(line => line.StartsWith(image + " ", StringComparison.Ordinal));
        Assert.Equal(index.Digest, row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);
        // The platform asked for was fetched and unpacked: its manifest is in the content store, its layer a snapshot.
        var content = await clients.Docker.CtrAsync("content", "ls", "--quiet");
        Assert.Contains(amd64.Digest, content.Output);
        var snapshots = await clients.Docker.CtrAsync("snapshots", "--snapshotter", "native", "ls");
        Assert.Contains("Committed", snapshots.Output);
    }
}
