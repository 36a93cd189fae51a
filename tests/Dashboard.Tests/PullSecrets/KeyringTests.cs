using Dashboard.Domain.Images;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Registry;

namespace Dashboard.Tests.PullSecrets;

public sealed class KeyringTests
{
    private static string? Match(string image, params string[] keys) =>
        Keyring.Match(ImageReference.Parse(image), keys.Select(k => ("s", new DockerConfigEntry(k, new RegistryCredential("u", "p")))))
            .FirstOrDefault()?.Key;

    [Theory]
    [InlineData("quay.io/org/app:1", "quay.io", "quay.io")]
    [InlineData("quay.io/org/app:1", "https://quay.io", "https://quay.io")]
    [InlineData("quay.io/org/app:1", "https://quay.io/v2/", "https://quay.io/v2/")]
    [InlineData("registry.example.com:5000/app", "registry.example.com:5000", "registry.example.com:5000")]
    [InlineData("registry.example.com:5000/app", "registry.example.com", null)]
    [InlineData("registry.example.com/app", "registry.example.com:5000", null)]
    [InlineData("eu.registry.example.com/app", "*.registry.example.com", "*.registry.example.com")]
    [InlineData("registry.example.com/app", "*.registry.example.com", null)]
    [InlineData("a.b.registry.example.com/app", "*.registry.example.com", null)]
    [InlineData("quay.io/org/app:1", "quay.io/org", "quay.io/org")]
    [InlineData("quay.io/orgx/app:1", "quay.io/org", null)]
    [InlineData("quay.io.evil.example/app", "quay.io", null)]
    public void Keys_match_by_port_host_labels_and_path_prefix(string image, string key, string? expected) =>
        Assert.Equal(expected, Match(image, key));

    [Theory]
    [InlineData("docker.io")]
    [InlineData("index.docker.io")]
    [InlineData("https://index.docker.io/v1/")]
    [InlineData("registry-1.docker.io")]
    public void Every_docker_hub_spelling_matches_docker_hub_images(string key) =>
        Assert.Equal(key, Match("mysql:8", key));

    [Fact]
    public void The_most_specific_key_wins()
    {
        Assert.Equal("quay.io/org/app", Match("quay.io/org/app:1", "quay.io", "quay.io/org/app", "quay.io/org"));
        Assert.Equal("quay.io", Match("quay.io/org/app:1", "*.io", "quay.io"));
    }
}
