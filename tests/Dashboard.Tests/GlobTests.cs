using Dashboard.Domain;

namespace Dashboard.Tests;

public sealed class GlobTests
{
    /// <summary>
    /// Issue 12, finding 1: the pattern that kept a backtracking regex busy for over a minute against 64 <c>a</c>s is
    /// answered in at most value length × (pattern length + 1) steps.
    /// </summary>
    [Theory]
    [InlineData("*a*a*a*a*a*a*a*a*a*a*a*a*b", 64)]
    [InlineData("*a*a*a*a*a*a*a*a*a*a*a*a*b", 10_000)]
    [InlineData("**a**a**a**a**a**a**a**a**b", 4_096)]
    public void Finding_1_a_hostile_pattern_costs_steps_linear_in_the_value(string pattern, int length)
    {
        var value = new string('a', length);
        var glob = Glob.Parse(pattern, questionMark: true);

        Assert.False(glob.IsMatch(value, out var steps));
        Assert.InRange(steps, 1, (long)value.Length * (pattern.Length + 1));
        Assert.True(Glob.Parse(pattern).IsMatch(value + "b"));
    }

    [Theory]
    [InlineData("team-a/*", "/", "team-a/app", true)]
    [InlineData("team-a/*", "/", "team-a/app/sub", false)]
    [InlineData("team-a/**", "/", "team-a/app/sub", true)]
    [InlineData("*.corp.example.com", ".:/", "registry.corp.example.com", true)]
    [InlineData("*.corp.example.com", ".:/", "a.b.corp.example.com", false)]
    [InlineData("library/mysql", "/", "library/mysql-evil", false)]
    [InlineData("v1.*", "", "v1.2.3", true)]
    [InlineData("*", "", "", true)]
    [InlineData("", "", "", true)]
    [InlineData("", "", "x", false)]
    [InlineData("a*b*c", "", "abbbc", true)]
    [InlineData("a*b*c", "", "acb", false)]
    public void Stars_stay_within_a_segment_and_double_stars_cross_them(string pattern, string separators, string value, bool matches) =>
        Assert.Equal(matches, Glob.Parse(pattern, separators).IsMatch(value));

    [Fact]
    public void A_question_mark_is_one_character_only_where_asked_and_case_is_ignored_only_where_asked()
    {
        Assert.True(Glob.Parse("v?", questionMark: true).IsMatch("v1"));
        Assert.False(Glob.Parse("v?", questionMark: true).IsMatch("v12"));
        Assert.False(Glob.Parse("v?").IsMatch("v1"));
        Assert.True(Glob.Parse("v?").IsMatch("v?"));
        Assert.True(Glob.Parse("*.Example.COM", ".", ignoreCase: true).IsMatch("Quay.example.com"));
        Assert.False(Glob.Parse("*.Example.COM", ".").IsMatch("quay.example.com"));
    }

    [Fact]
    public void Finding_1_a_webhook_with_a_hostile_tag_filter_matches_nothing_while_another_still_matches()
    {
        var now = DateTime.UtcNow;
        var change = new Dashboard.Domain.Triggers.ChangeEvent(now, 1, "hooks", "app", new string('a', 64), "sha256:" + new string('1', 64), null,
            "quay.io/org/app@sha256:" + new string('1', 64), 1);
        var hostile = new Dashboard.Domain.Triggers.Webhook(1, "hostile", now);
        hostile.Set("http://receiver.example/", null, "protected", null, "*a*a*a*a*a*a*a*a*a*a*a*a*b");
        var plain = new Dashboard.Domain.Triggers.Webhook(1, "plain", now);
        plain.Set("http://receiver.example/", null, "protected", "a?p", "a*");

        Assert.False(hostile.Matches(change));
        Assert.True(plain.Matches(change));
    }
}
