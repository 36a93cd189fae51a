using Dashboard.Domain.Images;

namespace Dashboard.Tests.Images;

public class ImageReferenceTests
{
    // sha256 of the empty string.
    private const string Sha = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Theory]
    [InlineData("mysql")]
    [InlineData("mysql:latest")]
    [InlineData("library/mysql")]
    [InlineData("docker.io/mysql")]
    [InlineData("docker.io/library/mysql")]
    [InlineData("index.docker.io/library/mysql:latest")]
    [InlineData("index.docker.io/mysql")]
    [InlineData("registry-1.docker.io/library/mysql")]
    [InlineData("registry.hub.docker.com/library/mysql")]
    [InlineData("Docker.IO/library/mysql")]
    public void Docker_hub_aliases_normalize_to_one_reference(string input)
    {
        var reference = ImageReference.Parse(input);

        Assert.Equal("docker.io/library/mysql:latest", reference.ToString());
        Assert.Equal(ImageReference.Parse("mysql"), reference);
        Assert.True(reference.IsDockerHub);
        Assert.Equal("mysql:latest", reference.FamiliarName);
    }

    [Theory]
    [InlineData("mysql:8", "docker.io", "library/mysql", "8", null, "docker.io/library/mysql:8")]
    [InlineData("bitnami/redis:7", "docker.io", "bitnami/redis", "7", null, "docker.io/bitnami/redis:7")]
    [InlineData("docker.io/bitnami/redis", "docker.io", "bitnami/redis", "latest", null, "docker.io/bitnami/redis:latest")]
    [InlineData("docker.io/library/foo/bar", "docker.io", "library/foo/bar", "latest", null, "docker.io/library/foo/bar:latest")]
    [InlineData("localhost/app", "localhost", "app", "latest", null, "localhost/app:latest")]
    [InlineData("localhost:5000/app:1", "localhost:5000", "app", "1", null, "localhost:5000/app:1")]
    [InlineData("myregistry:5000/app", "myregistry:5000", "app", "latest", null, "myregistry:5000/app:latest")]
    [InlineData("registry.corp.example.com:8443/team/app", "registry.corp.example.com:8443", "team/app", "latest", null, "registry.corp.example.com:8443/team/app:latest")]
    [InlineData("Registry.Corp.Example.com/team/app", "registry.corp.example.com", "team/app", "latest", null, "registry.corp.example.com/team/app:latest")]
    [InlineData("ghcr.io/org/team/tools/app:v1.2.3-rc.1_b", "ghcr.io", "org/team/tools/app", "v1.2.3-rc.1_b", null, "ghcr.io/org/team/tools/app:v1.2.3-rc.1_b")]
    [InlineData("quay.io/org/my__app.v2-----x:_Latest", "quay.io", "org/my__app.v2-----x", "_Latest", null, "quay.io/org/my__app.v2-----x:_Latest")]
    [InlineData("[::1]:5000/app", "[::1]:5000", "app", "latest", null, "[::1]:5000/app:latest")]
    [InlineData("[::1]/app:2", "[::1]", "app", "2", null, "[::1]/app:2")]
    [InlineData("[2001:DB8::1]:5000/team/app:3", "[2001:db8::1]:5000", "team/app", "3", null, "[2001:db8::1]:5000/team/app:3")]
    [InlineData("quay.io/org/app@" + Sha, "quay.io", "org/app", null, Sha, "quay.io/org/app@" + Sha)]
    [InlineData("quay.io/org/app:1.2@" + Sha, "quay.io", "org/app", "1.2", Sha, "quay.io/org/app:1.2@" + Sha)]
    [InlineData("localhost:5000/app@" + Sha, "localhost:5000", "app", null, Sha, "localhost:5000/app@" + Sha)]
    [InlineData("mysql@" + Sha, "docker.io", "library/mysql", null, Sha, "docker.io/library/mysql@" + Sha)]
    // Like the Docker CLI: without a '/', there is no registry, so the colon starts a tag.
    [InlineData("localhost:5000", "docker.io", "library/localhost", "5000", null, "docker.io/library/localhost:5000")]
    [InlineData("quay.io", "docker.io", "library/quay.io", "latest", null, "docker.io/library/quay.io:latest")]
    public void A_reference_splits_into_registry_repository_tag_and_digest(
        string input, string registry, string repository, string? tag, string? digest, string printed)
    {
        var reference = ImageReference.Parse(input);

        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(digest, reference.Digest?.ToString());
        Assert.Equal(printed, reference.ToString());
    }

    [Theory]
    [InlineData("mysql", "mysql:latest")]
    [InlineData("docker.io/library/mysql:8", "mysql:8")]
    [InlineData("mysql@" + Sha, "mysql@" + Sha)]
    [InlineData("bitnami/redis:7", "bitnami/redis:7")]
    [InlineData("docker.io/library/foo/bar", "library/foo/bar:latest")]
    [InlineData("docker.io/libraryx/foo", "libraryx/foo:latest")]
    [InlineData("quay.io/org/app:1", "quay.io/org/app:1")]
    [InlineData("quay.io/library/app", "quay.io/library/app:latest")]
    [InlineData("localhost:5000/app:1.2@" + Sha, "localhost:5000/app:1.2@" + Sha)]
    public void Familiar_name_drops_docker_hub_and_its_library_prefix_only(string input, string familiar)
    {
        Assert.Equal(familiar, ImageReference.Parse(input).FamiliarName);
    }

    [Theory]
    [InlineData("mysql")]
    [InlineData("bitnami/redis:7")]
    [InlineData("localhost:5000/app:1")]
    [InlineData("registry.corp.example.com:8443/team/app")]
    [InlineData("[::1]:5000/app")]
    [InlineData("quay.io/org/app@" + Sha)]
    [InlineData("quay.io/org/app:1.2@" + Sha)]
    [InlineData("mysql@" + Sha)]
    public void Printing_and_parsing_again_gives_an_equal_reference(string input)
    {
        var reference = ImageReference.Parse(input);

        var again = ImageReference.Parse(reference.ToString());

        Assert.Equal(reference, again);
        Assert.Equal(reference.GetHashCode(), again.GetHashCode());
        Assert.Equal(reference.ToString(), again.ToString());
    }

    [Fact]
    public void References_compare_by_value()
    {
        Assert.Equal(ImageReference.Parse("quay.io/org/app:1"), ImageReference.Parse("QUAY.io/org/app:1"));
        Assert.NotEqual(ImageReference.Parse("quay.io/org/app:1"), ImageReference.Parse("quay.io/org/app:2"));
        Assert.NotEqual(ImageReference.Parse("quay.io/org/app"), ImageReference.Parse("quay.io/org/app@" + Sha));
        Assert.NotEqual(ImageReference.Parse("quay.io/org/app"), ImageReference.Parse("ghcr.io/org/app"));
    }

    [Fact]
    public void With_digest_pins_the_image_and_drops_the_tag()
    {
        var digest = Digest.Parse(Sha);

        var pinned = ImageReference.Parse("quay.io/org/app:1.2").WithDigest(digest);

        Assert.Null(pinned.Tag);
        Assert.Equal(digest, pinned.Digest);
        Assert.Equal("quay.io/org/app@" + Sha, pinned.ToString());
    }

    [Theory]
    [InlineData(null, "An image reference is required.")]
    [InlineData("", "An image reference is required.")]
    [InlineData("   ", "An image reference is required.")]
    [InlineData("my app", "An image reference contains no spaces.")]
    [InlineData("app:1\n", "An image reference contains no spaces.")]
    [InlineData("\tapp", "An image reference contains no spaces.")]
    [InlineData("MySQL", "Repository 'library/MySQL' is not valid: lower-case")]
    [InlineData("quay.io/Org/app", "Repository 'Org/app' is not valid")]
    [InlineData("quay.io/org//app", "Repository 'org//app' is not valid")]
    [InlineData("quay.io/org/app-", "Repository 'org/app-' is not valid")]
    [InlineData("quay.io/org/-app", "Repository 'org/-app' is not valid")]
    [InlineData("quay.io/org/a___b", "Repository 'org/a___b' is not valid")]
    [InlineData("/app", "Repository '/app' is not valid")]
    [InlineData("app:-x", "Tag '-x' is not valid")]
    [InlineData("app:.x", "Tag '.x' is not valid")]
    [InlineData("app:", "Tag '' is not valid")]
    [InlineData("app:a+b", "Tag 'a+b' is not valid")]
    [InlineData("app@md5:d41d8cd98f00b204e9800998ecf8427e", "Digest algorithm 'md5' is not supported")]
    [InlineData("app@sha256:abc123", "A sha256 digest has exactly 64 lower-case hex characters.")]
    [InlineData("app@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "A sha256 digest has exactly 64 lower-case hex characters.")]
    [InlineData("app@", "A digest is required.")]
    [InlineData("app@e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "is not a digest")]
    [InlineData("registry.example.com/", "The repository name is missing.")]
    [InlineData("localhost:5000/", "The repository name is missing.")]
    [InlineData("docker.io/", "The repository name is missing.")]
    [InlineData(":latest", "The repository name is missing.")]
    [InlineData("@" + Sha, "The repository name is missing.")]
    [InlineData("foo:bar/app", "Registry 'foo:bar' is not a valid host[:port] (ports are 1 to 65535).")]
    [InlineData("registry.example.com:99999/app", "Registry 'registry.example.com:99999' is not a valid host[:port] (ports are 1 to 65535).")]
    [InlineData("-bad.example.com/app", "Registry '-bad.example.com' is not a valid host[:port] (ports are 1 to 65535).")]
    [InlineData("registry.example.com:123456/app", "Registry 'registry.example.com:123456' is not a valid host[:port] (ports are 1 to 65535).")]
    [InlineData("[::g]:5000/app", "Registry '[::g]:5000' is not a valid host[:port] (ports are 1 to 65535).")]
    public void Invalid_references_are_refused_with_a_message_naming_the_problem(string? input, string problem)
    {
        Assert.False(ImageReference.TryParse(input, out var reference, out var error));
        Assert.Null(reference);
        Assert.Contains(problem, error, StringComparison.Ordinal);

        if (input is not null)
        {
            var exception = Assert.Throws<FormatException>(() => ImageReference.Parse(input));
            Assert.Equal(error, exception.Message);
        }
    }

    [Fact]
    public void A_tag_has_at_most_128_characters()
    {
        var longest = new string('t', ImageReference.MaxTagLength);

        Assert.Equal(longest, ImageReference.Parse("app:" + longest).Tag);

        var error = Assert.Throws<FormatException>(() => ImageReference.Parse("app:" + longest + "t")).Message;
        Assert.Contains($"Tag '{longest}t' is not valid: up to 128", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_repository_has_at_most_255_characters()
    {
        var longest = "org/" + new string('a', ImageReference.MaxRepositoryLength - 4);

        Assert.Equal(longest, ImageReference.Parse("quay.io/" + longest).Repository);

        var error = Assert.Throws<FormatException>(() => ImageReference.Parse("quay.io/" + longest + "a")).Message;
        Assert.Equal("A repository name has at most 255 characters.", error);
    }

    [Fact]
    public void An_overlong_reference_is_refused_before_it_is_parsed()
    {
        var error = Assert.Throws<FormatException>(() => ImageReference.Parse(new string('a', ImageReference.MaxLength + 1))).Message;

        Assert.Equal($"An image reference has at most {ImageReference.MaxLength} characters.", error);
    }
}
