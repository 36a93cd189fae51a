using Dashboard.Domain.Import;

namespace Dashboard.Tests.Import;

public sealed class TagPriorityTests
{
    [Fact]
    public void The_issue_example_orders_latest_floating_semantic_then_the_rest()
    {
        string[] tags = ["other", "5.3.6-beta", "v5.3.6", "5.3.6", "v5.5", "5.5", "5.6", "v5", "5", "latest"];
        Assert.Equal(["latest", "5", "v5", "5.6", "5.5", "v5.5", "5.3.6", "v5.3.6", "5.3.6-beta", "other"], TagPriority.Order(tags.Reverse()));
    }

    [Fact]
    public void A_major_only_tag_floats_above_every_minor_of_its_major_but_not_above_a_newer_major()
    {
        Assert.Equal(["6.0", "v5", "v5.3", "5.2", "4"], TagPriority.Order(["5.2", "4", "v5.3", "6.0", "v5"]));
    }

    [Fact]
    public void Semantic_versions_follow_semver_precedence_including_pre_releases()
    {
        string[] tags = ["1.0.0-alpha", "1.0.0", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-alpha.1", "1.0.0-rc.1", "1.0.0-beta", "2.0.0", "1.10.0", "1.9.0"];
        Assert.Equal(["2.0.0", "1.10.0", "1.9.0", "1.0.0", "1.0.0-rc.1", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-beta", "1.0.0-alpha.1", "1.0.0-alpha"],
            TagPriority.Order(tags));
    }

    [Fact]
    public void Floating_pre_releases_come_after_their_release_and_other_tags_sort_ordinally_last()
    {
        Assert.Equal(["5.6", "5.6-rc1", "alpine", "edge", "main-2024"], TagPriority.Order(["edge", "5.6-rc1", "main-2024", "alpine", "5.6"]));
    }

    [Fact]
    public void Huge_version_numbers_do_not_overflow()
    {
        Assert.Equal(["99999999999999999999.0.0", "1.0.0"], TagPriority.Order(["1.0.0", "99999999999999999999.0.0"]));
    }
}
