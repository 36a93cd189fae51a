using System.Net.Http.Json;
using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Proxy;

/// <summary>
/// Docker Engine (Debian's docker.io, a private dockerd) logs in to the dashboard's registry endpoint and pulls through
/// it: the client never has the upstream's credentials, and what it extracts is the upstream's image, digest for digest.
/// </summary>
[Collection(RealClientsCollection.Name)]
[Trait("Category", "Clients")]
public sealed class DockerPullTests(RealClientsFixture clients)
{
    private Task<CommandResult> DockerAsync(string config, params string[] arguments) => clients.Docker.DockerAsync(config, arguments);

    private Task<CommandResult> LoginAsync(string config, string user, string secret) =>
        clients.Docker.DockerAsync(config, ["login", clients.Host, "--username", user, "--password-stdin"], secret);

    private async Task<string> RepoDigestAsync(string config, string image)
    {
        var inspect = await DockerAsync(config, "image", "inspect", "--format", "{{index .RepoDigests 0}}", image);
        Assert.True(inspect.Succeeded, inspect.ToString());
        return inspect.Output.Trim();
    }

    [Fact]
    public async Task Docker_logs_in_with_a_members_password_and_pulls_a_tag_as_the_upstreams_image()
    {
        var pushed = await clients.PublishAsync("shop", "password", "docker-password");
        var config = clients.NewDirectory("docker-password");

        var refused = await LoginAsync(config, RealClientsFixture.Member, "wrong-password");
        Assert.False(refused.Succeeded, refused.ToString());
        Assert.Contains("unauthorized", refused.Output, StringComparison.OrdinalIgnoreCase);

        var login = await LoginAsync(config, RealClientsFixture.Member, RealClientsFixture.UserPassword);
        Assert.True(login.Succeeded, login.ToString());
        Assert.Contains("Login Succeeded", login.Output);
        // The login stays in the test's own client configuration.
        Assert.Contains(clients.Host, await File.ReadAllTextAsync(Path.Combine(config, "config.json")));

        var image = $"{clients.Host}/shop/web:password";
        var pull = await DockerAsync(config, "pull", image);

        Assert.True(pull.Succeeded, pull + clients.Docker.Log);
        Assert.Contains($"Digest: {pushed.Digest}", pull.Output);
        Assert.Equal($"{clients.Host}/shop/web@{pushed.Digest}", await RepoDigestAsync(config, image));
    }

    [Fact]
    public async Task Docker_logs_in_with_a_personal_access_token_and_pulls_by_digest()
    {
        var pushed = await clients.PublishAsync("shop", "token", "docker-token");
        var config = clients.NewDirectory("docker-token");
        var token = await clients.AccessTokenAsync("docker");

        var login = await LoginAsync(config, RealClientsFixture.Member, token);
        Assert.True(login.Succeeded, login.ToString());

        var image = $"{clients.Host}/shop/web@{pushed.Digest}";
        var pull = await DockerAsync(config, "pull", image);

        Assert.True(pull.Succeeded, pull + clients.Docker.Log);
        Assert.Equal(image, await RepoDigestAsync(config, image));
    }

    [Fact]
    public async Task Docker_pull_of_a_tag_the_stream_does_not_have_says_the_manifest_is_unknown()
    {
        var config = clients.NewDirectory("docker-unknown");
        Assert.True((await LoginAsync(config, RealClientsFixture.Member, RealClientsFixture.UserPassword)).Succeeded);

        var pull = await DockerAsync(config, "pull", $"{clients.Host}/shop/web:no-such-tag");

        Assert.False(pull.Succeeded, pull.ToString());
        Assert.Contains($"manifest for {clients.Host}/shop/web:no-such-tag not found", pull.Output);
        Assert.Contains("manifest unknown", pull.Output);
    }

    [Fact]
    public async Task Docker_pull_without_a_login_is_refused_until_an_admin_allows_anonymous_pulls_for_the_namespace()
    {
        var pushed = await clients.PublishAsync("open", "anonymous", "docker-anonymous");
        var config = clients.NewDirectory("docker-anonymous");
        var image = $"{clients.Host}/open/web:anonymous";

        var refused = await DockerAsync(config, "pull", image);
        Assert.False(refused.Succeeded, refused.ToString());
        Assert.Contains("unauthorized", refused.Output, StringComparison.OrdinalIgnoreCase);

        (await clients.Admin.PutAsJsonAsync("/api/v1/namespaces/open/anonymous-pull", new { allowed = true })).EnsureSuccessStatusCode();
        var pull = await DockerAsync(config, "pull", image);
        Assert.True(pull.Succeeded, pull + clients.Docker.Log);
        Assert.Equal($"{clients.Host}/open/web@{pushed.Digest}", await RepoDigestAsync(config, image));

        // Switched off again, the next pull asks the registry again and is refused, though the engine has the image.
        (await clients.Admin.PutAsJsonAsync("/api/v1/namespaces/open/anonymous-pull", new { allowed = false })).EnsureSuccessStatusCode();
        refused = await DockerAsync(config, "pull", image);
        Assert.False(refused.Succeeded, refused.ToString());
    }
}
