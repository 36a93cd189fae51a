using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;

namespace Dashboard.Tests.Namespaces;

public class NamespaceNameTests
{
    [Theory]
    [InlineData("team-a")]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("42")]
    [InlineData("a--b")]
    [InlineData("prod-eu-west-1")]
    public void Dns_labels_are_valid_namespace_names(string name)
    {
        Assert.Null(NamespaceName.Validate(name));
    }

    [Theory]
    [InlineData(null, "A name is required.")]
    [InlineData("", "A name is required.")]
    [InlineData("-team", "Use lower-case letters, digits and '-', starting and ending with a letter or digit.")]
    [InlineData("team-", "Use lower-case letters, digits and '-', starting and ending with a letter or digit.")]
    [InlineData("Team-A", "Use lower-case letters, digits and '-', starting and ending with a letter or digit.")]
    [InlineData("team_a", "Use lower-case letters, digits and '-', starting and ending with a letter or digit.")]
    [InlineData("team.a", "Use lower-case letters, digits and '-', starting and ending with a letter or digit.")]
    [InlineData("team a", "Use lower-case letters, digits and '-', starting and ending with a letter or digit.")]
    [InlineData(" team", "Use lower-case letters, digits and '-', starting and ending with a letter or digit.")]
    [InlineData("team\n", "Use lower-case letters, digits and '-', starting and ending with a letter or digit.")]
    [InlineData("team/a", "Use lower-case letters, digits and '-', starting and ending with a letter or digit.")]
    public void Invalid_namespace_names_are_refused_with_the_rule(string? name, string problem)
    {
        Assert.Equal(problem, NamespaceName.Validate(name));
    }

    [Fact]
    public void A_namespace_name_has_at_most_63_characters()
    {
        Assert.Null(NamespaceName.Validate(new string('a', NamespaceName.MaxLength)));
        Assert.Equal("A namespace name has at most 63 characters.", NamespaceName.Validate(new string('a', NamespaceName.MaxLength + 1)));
    }

    [Theory]
    [InlineData("app")]
    [InlineData("my-app")]
    [InlineData("my.app")]
    [InlineData("my_app")]
    [InlineData("1app2")]
    [InlineData("a.b-c_d")]
    public void Repository_path_components_are_valid_image_stream_names(string name)
    {
        Assert.Null(ImageStreamName.Validate(name));
    }

    [Theory]
    [InlineData(null, "A name is required.")]
    [InlineData("", "A name is required.")]
    [InlineData("App", "Use lower-case letters and digits, separated by single '.', '_' or '-'.")]
    [InlineData("my--app", "Use lower-case letters and digits, separated by single '.', '_' or '-'.")]
    [InlineData("my__app", "Use lower-case letters and digits, separated by single '.', '_' or '-'.")]
    [InlineData("my..app", "Use lower-case letters and digits, separated by single '.', '_' or '-'.")]
    [InlineData("-app", "Use lower-case letters and digits, separated by single '.', '_' or '-'.")]
    [InlineData("app.", "Use lower-case letters and digits, separated by single '.', '_' or '-'.")]
    [InlineData("team/app", "Use lower-case letters and digits, separated by single '.', '_' or '-'.")]
    [InlineData("app:latest", "Use lower-case letters and digits, separated by single '.', '_' or '-'.")]
    [InlineData("my app", "Use lower-case letters and digits, separated by single '.', '_' or '-'.")]
    [InlineData("app\n", "Use lower-case letters and digits, separated by single '.', '_' or '-'.")]
    public void Invalid_image_stream_names_are_refused_with_the_rule(string? name, string problem)
    {
        Assert.Equal(problem, ImageStreamName.Validate(name));
    }

    [Fact]
    public void An_image_stream_name_has_at_most_128_characters()
    {
        Assert.Null(ImageStreamName.Validate(new string('a', ImageStreamName.MaxLength)));
        Assert.Equal("An image stream name has at most 128 characters.", ImageStreamName.Validate(new string('a', ImageStreamName.MaxLength + 1)));
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("LATEST")]
    [InlineData("v1.2.3")]
    [InlineData("1.0-rc_1")]
    [InlineData("_internal")]
    [InlineData("9")]
    [InlineData("a..b--c__d")]
    public void Distribution_spec_tags_are_valid_tag_names(string name)
    {
        Assert.Null(TagName.Validate(name));
    }

    [Theory]
    [InlineData(null, "A tag name is required.")]
    [InlineData("", "A tag name is required.")]
    [InlineData("-rc", "Use letters, digits, '_', '.' and '-', not starting with '.' or '-'.")]
    [InlineData(".hidden", "Use letters, digits, '_', '.' and '-', not starting with '.' or '-'.")]
    [InlineData("v1:2", "Use letters, digits, '_', '.' and '-', not starting with '.' or '-'.")]
    [InlineData("team/v1", "Use letters, digits, '_', '.' and '-', not starting with '.' or '-'.")]
    [InlineData("v1@sha", "Use letters, digits, '_', '.' and '-', not starting with '.' or '-'.")]
    [InlineData("v 1", "Use letters, digits, '_', '.' and '-', not starting with '.' or '-'.")]
    [InlineData("v1+build", "Use letters, digits, '_', '.' and '-', not starting with '.' or '-'.")]
    [InlineData("v1\n", "Use letters, digits, '_', '.' and '-', not starting with '.' or '-'.")]
    public void Invalid_tag_names_are_refused_with_the_rule(string? name, string problem)
    {
        Assert.Equal(problem, TagName.Validate(name));
    }

    [Fact]
    public void A_tag_name_has_at_most_128_characters()
    {
        Assert.Null(TagName.Validate(new string('v', TagName.MaxLength)));
        Assert.Equal("A tag has at most 128 characters.", TagName.Validate(new string('v', TagName.MaxLength + 1)));
    }
}
