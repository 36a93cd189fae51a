using Dashboard.Domain;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;

namespace Dashboard.Tests.ImageStreams;

public class ImageStreamTests
{
    private static readonly DateTime T0 = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    private static readonly Digest First = Digest.Sha256("first"u8);
    private static readonly Digest Second = Digest.Sha256("second"u8);

    private static readonly TagSource Upstream = new(TagSourceKind.DockerImage, "quay.io/org/app:1.2");

    private static ImageStream NewStream(string name = "app") =>
        new(new Namespace("team-a", T0), name, null, null, T0);

    private static TagReference SetTag(ImageStream stream, string name, TagSource? from = null) =>
        stream.SetTag(name, from ?? Upstream, scheduled: false, insecure: false, ImportMode.Legacy, ReferencePolicy.Source);

    [Fact]
    public void A_new_stream_is_at_generation_one_with_no_tags()
    {
        var stream = NewStream();

        Assert.Equal(1, stream.Generation);
        Assert.Empty(stream.SpecTags);
        Assert.Empty(stream.History);
        Assert.Empty(stream.Conditions);
        Assert.Empty(stream.TagNames());
        Assert.Empty(stream.Labels);
        Assert.Empty(stream.Annotations);
    }

    [Fact]
    public void Setting_a_new_tag_creates_it_at_the_next_generation()
    {
        var stream = NewStream();

        var tag = stream.SetTag("latest", Upstream, scheduled: true, insecure: true, ImportMode.PreserveOriginal, ReferencePolicy.Local);

        Assert.Same(tag, Assert.Single(stream.SpecTags));
        Assert.Same(tag, stream.FindTag("latest"));
        Assert.Equal("latest", tag.Name);
        Assert.Equal(Upstream, tag.From);
        Assert.True(tag.Scheduled);
        Assert.True(tag.Insecure);
        Assert.Equal(ImportMode.PreserveOriginal, tag.ImportMode);
        Assert.Equal(ReferencePolicy.Local, tag.ReferencePolicy);
        Assert.Equal(2, stream.Generation);
        Assert.Equal(2, tag.Generation);
    }

    [Fact]
    public void Setting_an_existing_tag_updates_it_in_place_and_raises_the_generation()
    {
        var stream = NewStream();
        var created = SetTag(stream, "latest");
        var moved = new TagSource(TagSourceKind.DockerImage, "quay.io/org/app:1.3");

        var updated = stream.SetTag("latest", moved, scheduled: true, insecure: false, ImportMode.Legacy, ReferencePolicy.Source);

        Assert.Same(created, updated);
        Assert.Single(stream.SpecTags);
        Assert.Equal(moved, updated.From);
        Assert.True(updated.Scheduled);
        Assert.Equal(3, stream.Generation);
        Assert.Equal(3, updated.Generation);
    }

    [Fact]
    public void A_tag_keeps_the_generation_it_was_last_changed_at()
    {
        var stream = NewStream();

        var latest = SetTag(stream, "latest");
        var stable = SetTag(stream, "stable");

        Assert.Equal(2, latest.Generation);
        Assert.Equal(3, stable.Generation);
        Assert.Equal(3, stream.Generation);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-rc")]
    [InlineData(".hidden")]
    [InlineData("v 1")]
    [InlineData("team/v1")]
    [InlineData("v1:2")]
    [InlineData("v1@x")]
    [InlineData("v1\n")]
    public void An_invalid_tag_name_is_refused_on_the_name_field(string name)
    {
        var stream = NewStream();

        var exception = Assert.Throws<ValidationFailedException>(() => SetTag(stream, name));

        var (field, messages) = Assert.Single(exception.Errors);
        Assert.Equal("name", field);
        Assert.Equal(TagName.Validate(name), Assert.Single(messages));
        Assert.Empty(stream.SpecTags);
        Assert.Equal(1, stream.Generation);
    }

    [Fact]
    public void A_tag_name_over_128_characters_is_refused()
    {
        var stream = NewStream();

        var exception = Assert.Throws<ValidationFailedException>(() => SetTag(stream, new string('v', TagName.MaxLength + 1)));

        Assert.Equal(new[] { "A tag has at most 128 characters." }, exception.Errors["name"]);
        Assert.NotNull(SetTag(stream, new string('v', TagName.MaxLength)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("team-a")]
    public void A_tag_cannot_follow_itself(string? @namespace)
    {
        var stream = NewStream("app");
        var itself = new TagSource(TagSourceKind.ImageStreamTag, "app:latest", @namespace);

        var exception = Assert.Throws<ValidationFailedException>(() => SetTag(stream, "latest", itself));

        Assert.Equal(new[] { "A tag cannot follow itself." }, exception.Errors["from"]);
        Assert.Empty(stream.SpecTags);
        Assert.Equal(1, stream.Generation);
    }

    [Theory]
    [InlineData("app:stable", null)]
    [InlineData("other:latest", null)]
    [InlineData("app:latest", "team-b")]
    public void A_tag_may_follow_another_tag_or_the_same_name_elsewhere(string name, string? @namespace)
    {
        var stream = NewStream("app");
        var other = new TagSource(TagSourceKind.ImageStreamTag, name, @namespace);

        var tag = SetTag(stream, "latest", other);

        Assert.Equal(other, tag.From);
    }

    [Fact]
    public void Recording_an_image_adds_a_digest_pinned_history_entry()
    {
        var stream = NewStream();
        var tag = SetTag(stream, "latest");

        var entry = stream.RecordImage("latest", ImageReference.Parse("quay.io/org/app:1.2"), First, T0);

        Assert.NotNull(entry);
        Assert.Same(entry, Assert.Single(stream.History));
        Assert.Equal("latest", entry.Tag);
        Assert.Equal(T0, entry.Created);
        Assert.Equal(First.ToString(), entry.Image);
        Assert.Equal($"quay.io/org/app@{First}", entry.DockerImageReference);
        Assert.Equal(tag.Generation, entry.Generation);
        Assert.Same(entry, stream.CurrentImage("latest"));
    }

    [Fact]
    public void History_lists_the_newest_image_first()
    {
        var stream = NewStream();
        SetTag(stream, "latest");
        var source = ImageReference.Parse("quay.io/org/app:1.2");

        var older = stream.RecordImage("latest", source, First, T0);
        var newer = stream.RecordImage("latest", source, Second, T0.AddMinutes(5));

        Assert.Collection(stream.HistoryOf("latest"), e => Assert.Same(newer, e), e => Assert.Same(older, e));
        Assert.Same(newer, stream.CurrentImage("latest"));
    }

    [Fact]
    public void Recording_the_current_digest_again_adds_nothing()
    {
        var stream = NewStream();
        SetTag(stream, "latest");
        var source = ImageReference.Parse("quay.io/org/app:1.2");
        var first = stream.RecordImage("latest", source, First, T0);

        var again = stream.RecordImage("latest", source, First, T0.AddMinutes(5));

        Assert.Null(again);
        Assert.Same(first, Assert.Single(stream.History));
        Assert.Equal(T0, stream.CurrentImage("latest")?.Created);
    }

    [Fact]
    public void Moving_back_to_an_earlier_image_is_recorded_as_a_new_entry()
    {
        var stream = NewStream();
        var source = ImageReference.Parse("quay.io/org/app:1.2");
        stream.RecordImage("latest", source, First, T0);
        stream.RecordImage("latest", source, Second, T0.AddMinutes(1));

        var back = stream.RecordImage("latest", source, First, T0.AddMinutes(2));

        Assert.NotNull(back);
        Assert.Equal(new[] { First.ToString(), Second.ToString(), First.ToString() }, stream.HistoryOf("latest").Select(e => e.Image));
    }

    [Fact]
    public void Each_tag_has_its_own_history()
    {
        var stream = NewStream();
        var source = ImageReference.Parse("quay.io/org/app:1.2");
        stream.RecordImage("latest", source, First, T0);

        var stable = stream.RecordImage("stable", source, First, T0);

        Assert.NotNull(stable);
        Assert.Equal(2, stream.History.Count);
        Assert.Same(stable, Assert.Single(stream.HistoryOf("stable")));
        Assert.Null(stream.CurrentImage("missing"));
    }

    [Fact]
    public void An_image_recorded_for_a_tag_without_spec_takes_the_stream_generation()
    {
        var stream = NewStream();
        SetTag(stream, "latest");
        SetTag(stream, "stable");

        var entry = stream.RecordImage("pushed", ImageReference.Parse("quay.io/org/app"), First, T0);

        Assert.Equal(stream.Generation, entry?.Generation);
        Assert.Equal(new[] { "latest", "pushed", "stable" }, stream.TagNames());
    }

    [Fact]
    public void Removing_a_tag_removes_its_spec_history_and_conditions_only()
    {
        var stream = NewStream();
        var source = ImageReference.Parse("quay.io/org/app:1.2");
        SetTag(stream, "latest");
        var stable = SetTag(stream, "stable");
        stream.RecordImage("latest", source, First, T0);
        var kept = stream.RecordImage("stable", source, First, T0);
        stream.SetCondition("latest", TagCondition.ImportSuccess, false, "NotFound", "manifest unknown", T0);
        var keptCondition = stream.SetCondition("stable", TagCondition.ImportSuccess, true, "", "", T0);
        var generation = stream.Generation;

        Assert.True(stream.RemoveTag("latest"));

        Assert.Same(stable, Assert.Single(stream.SpecTags));
        Assert.Same(kept, Assert.Single(stream.History));
        Assert.Same(keptCondition, Assert.Single(stream.Conditions));
        Assert.Null(stream.FindTag("latest"));
        Assert.Equal("stable", Assert.Single(stream.TagNames()));
        Assert.Equal(generation + 1, stream.Generation);
    }

    [Fact]
    public void Removing_a_tag_with_only_history_removes_it()
    {
        var stream = NewStream();
        stream.RecordImage("pushed", ImageReference.Parse("quay.io/org/app"), First, T0);

        Assert.True(stream.RemoveTag("pushed"));

        Assert.Empty(stream.History);
        Assert.Equal(2, stream.Generation);
    }

    [Fact]
    public void Removing_an_unknown_tag_changes_nothing()
    {
        var stream = NewStream();
        SetTag(stream, "latest");

        Assert.False(stream.RemoveTag("missing"));

        Assert.Single(stream.SpecTags);
        Assert.Equal(2, stream.Generation);
    }

    [Fact]
    public void A_condition_moves_its_transition_time_only_when_the_status_changes()
    {
        var stream = NewStream();
        var tag = SetTag(stream, "latest");

        var failed = stream.SetCondition("latest", TagCondition.ImportSuccess, false, "Unauthorized", "pull secret rejected", T0);
        Assert.Equal("False", failed.Status);
        Assert.Equal(T0, failed.LastTransitionTime);
        Assert.Equal(tag.Generation, failed.Generation);

        var stillFailing = stream.SetCondition("latest", TagCondition.ImportSuccess, false, "NotFound", "manifest unknown", T0.AddMinutes(5));
        Assert.Same(failed, stillFailing);
        Assert.Equal(T0, stillFailing.LastTransitionTime);
        Assert.Equal("NotFound", stillFailing.Reason);
        Assert.Equal("manifest unknown", stillFailing.Message);

        var succeeded = stream.SetCondition("latest", TagCondition.ImportSuccess, true, "", "", T0.AddMinutes(10));
        Assert.Same(failed, succeeded);
        Assert.Equal("True", succeeded.Status);
        Assert.Equal(T0.AddMinutes(10), succeeded.LastTransitionTime);
        Assert.Single(stream.Conditions);
    }

    [Fact]
    public void Conditions_are_kept_per_tag_and_type()
    {
        var stream = NewStream();

        var latest = stream.SetCondition("latest", TagCondition.ImportSuccess, true, "", "", T0);
        var stable = stream.SetCondition("stable", TagCondition.ImportSuccess, false, "NotFound", "manifest unknown", T0);
        var other = stream.SetCondition("latest", "Other", false, "", "", T0);

        Assert.Equal(3, stream.Conditions.Count);
        Assert.NotSame(latest, stable);
        Assert.NotSame(latest, other);
        Assert.Equal(stream.Generation, stable.Generation);
    }
}
