using Dashboard.Domain;
using Dashboard.Domain.Registry.Mirrors;

namespace Dashboard.Tests.Registry;

/// <summary>How a reference resolves to the places tried (docs/decisions/0016-registry-mirrors.md), and the document's validation.</summary>
public sealed class MirrorConfigurationTests
{
    private static MirrorConfiguration Document(MirrorSet[]? digest = null, MirrorSet[]? tag = null, string[]? insecure = null) =>
        MirrorConfiguration.Validate(new MirrorConfiguration(digest ?? [], tag ?? [], insecure ?? []));

    private static string[] Places(MirrorConfiguration configuration, string registry, string repository, bool byDigest) =>
        [.. configuration.PlacesFor(registry, repository, byDigest).Select(p => $"{p}{(p.IsMirror ? "" : " (source)")}{(p.Insecure ? " (http)" : "")}")];

    [Fact]
    public void A_source_matches_whole_path_segments_only()
    {
        var mirrors = Document(tag: [new MirrorSet("docker.io/library", ["registry.corp.example.com/dockerhub"])]);

        Assert.Equal(["registry.corp.example.com/dockerhub/nginx", "docker.io/library/nginx (source)"],
            Places(mirrors, "docker.io", "library/nginx", byDigest: false));
        Assert.Equal(["docker.io/libraryx/nginx (source)"], Places(mirrors, "docker.io", "libraryx/nginx", byDigest: false));
        Assert.Equal(["registry.corp.example.com/dockerhub", "docker.io/library (source)"], Places(mirrors, "docker.io", "library", byDigest: false));
        Assert.Equal(["quay.io/library/nginx (source)"], Places(mirrors, "quay.io", "library/nginx", byDigest: false));
    }

    [Fact]
    public void By_digest_the_digest_mirrors_apply_and_by_tag_the_tag_mirrors()
    {
        var mirrors = Document(
            digest: [new MirrorSet("quay.io/org", ["digests.example.com/org"])],
            tag: [new MirrorSet("quay.io/org", ["tags.example.com/org"])]);

        Assert.Equal(["digests.example.com/org/app", "quay.io/org/app (source)"], Places(mirrors, "quay.io", "org/app", byDigest: true));
        Assert.Equal(["tags.example.com/org/app", "quay.io/org/app (source)"], Places(mirrors, "quay.io", "org/app", byDigest: false));
    }

    [Fact]
    public void The_longest_source_wins_and_entries_naming_it_are_merged_in_order()
    {
        var mirrors = Document(digest:
        [
            new MirrorSet("quay.io", ["everything.example.com"]),
            new MirrorSet("quay.io/org/app", ["a.example.com/app", "b.example.com/app"]),
            new MirrorSet("quay.io/org/app", ["b.example.com/app", "c.example.com/app"], MirrorSourcePolicy.NeverContactSource),
        ]);

        // One entry says NeverContactSource: the source of that prefix is never asked.
        Assert.Equal(["a.example.com/app", "b.example.com/app", "c.example.com/app"], Places(mirrors, "quay.io", "org/app", byDigest: true));
        Assert.Equal(["everything.example.com/org/other", "quay.io/org/other (source)"], Places(mirrors, "quay.io", "org/other", byDigest: true));
    }

    [Fact]
    public void Insecure_registries_are_mirror_hosts_reached_over_plain_http_and_docker_hub_is_named_once()
    {
        var mirrors = Document(tag: [new MirrorSet("index.docker.io", ["127.0.0.1:5001/hub", "Registry.Example.com"])], insecure: ["127.0.0.1:5001"]);

        Assert.Equal("docker.io", mirrors.ImageTagMirrors[0].Source);
        Assert.Equal("registry.example.com", mirrors.ImageTagMirrors[0].Mirrors[1]);
        Assert.Equal(["127.0.0.1:5001/hub/library/nginx (http)", "registry.example.com/library/nginx", "docker.io/library/nginx (source)"],
            Places(mirrors, "docker.io", "library/nginx", byDigest: false));
    }

    [Fact]
    public void A_mirror_that_would_name_no_repository_is_left_out()
    {
        var mirrors = Document(tag: [new MirrorSet("quay.io/org/app", ["bare.example.com", "ok.example.com/app"])]);

        Assert.Equal(["ok.example.com/app", "quay.io/org/app (source)"], Places(mirrors, "quay.io", "org/app", byDigest: false));
    }

    [Fact]
    public void A_bad_entry_is_named_by_its_path_and_nothing_is_kept()
    {
        var error = Assert.Throws<ValidationFailedException>(() => Document(
            digest: [new MirrorSet("docker.io/library", ["ok.example.com/hub"]), new MirrorSet("docker.io", ["not a host", "ok.example.com", "ok.example.com"])],
            tag: [new MirrorSet("library/nginx", ["m.example.com"]), new MirrorSet("quay.io", []), new MirrorSet("quay.io/app:1.0", ["m.example.com"])],
            insecure: ["127.0.0.1:5001", "http://x"]));

        Assert.Contains("not a host", error.Errors["imageDigestMirrors[1].mirrors[0]"][0]);
        Assert.Contains("twice", error.Errors["imageDigestMirrors[1].mirrors[2]"][0]);
        Assert.Contains("registry host", error.Errors["imageTagMirrors[0].source"][0]);
        Assert.Contains("1 to", error.Errors["imageTagMirrors[1].mirrors"][0]);
        Assert.True(error.Errors.ContainsKey("imageTagMirrors[2].source"));
        Assert.True(error.Errors.ContainsKey("insecureRegistries[1]"));
        Assert.False(error.Errors.ContainsKey("imageDigestMirrors[0].source"));
    }

    [Fact]
    public void Lists_are_bounded()
    {
        var many = Enumerable.Range(0, MirrorConfiguration.MaxSets + 1).Select(i => new MirrorSet($"r{i}.example.com", ["m.example.com"])).ToArray();
        var tooManyMirrors = Enumerable.Range(0, MirrorConfiguration.MaxMirrorsPerSet + 1).Select(i => $"m{i}.example.com").ToArray();

        var error = Assert.Throws<ValidationFailedException>(() => Document(digest: many, tag: [new MirrorSet("quay.io", tooManyMirrors)],
            insecure: [new string('a', 600) + ".example.com"]));

        Assert.True(error.Errors.ContainsKey("imageDigestMirrors"));
        Assert.True(error.Errors.ContainsKey("imageTagMirrors[0].mirrors"));
        Assert.True(error.Errors.ContainsKey("insecureRegistries[0]"));
    }
}
