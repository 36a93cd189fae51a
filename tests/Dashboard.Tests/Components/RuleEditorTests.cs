using Bunit;
using Dashboard.Components.Policy;
using Dashboard.Domain.Policy;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Dashboard.Tests.Components;

public sealed class RuleEditorTests : ConsoleContext
{
    [Fact]
    public async Task A_bad_pattern_and_a_taken_name_are_shown_next_to_their_fields_and_nothing_is_saved_until_fixed()
    {
        await SignInAsync("admin", admin: true);
        var provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();
        var parameters = new DialogParameters<RuleEditorDialog> { { d => d.Others, [new PolicyRule { Name = "taken" }] } };
        IDialogReference dialog = null!;
        await provider.InvokeAsync(async () => dialog = await dialogs.ShowAsync<RuleEditorDialog>("New rule", parameters));
        provider.WaitForAssertion(() => Assert.Contains("Save rule", provider.Markup));

        // The fields check as one types (after a short pause), without a save.
        provider.FindAll("input")[0].Input("taken");
        // Text areas in order: description, registries, repositories, labels, annotations.
        provider.FindAll("textarea")[2].Input("Team A/app");
        provider.FindAll("textarea")[3].Input("=payments");
        provider.WaitForAssertion(() =>
        {
            Assert.Contains("Another rule is already named 'taken'.", provider.Markup);
            Assert.Contains("'Team A/app' has 'T', which cannot be in it", provider.Markup);
            Assert.Contains("A key of 1 to 253 characters is required.", provider.Markup);
        }, TimeSpan.FromSeconds(5));
        provider.Find("button:contains('Save rule')").Click();
        Assert.False(dialog.Result.IsCompleted);

        provider.FindAll("input")[0].Input("corp-only");
        provider.FindAll("textarea")[2].Input("team-a/**");
        provider.FindAll("textarea")[3].Input("team=payments\n!deprecated");
        provider.WaitForAssertion(() =>
        {
            Assert.DoesNotContain("Another rule is already named", provider.Markup);
            Assert.DoesNotContain("which cannot be in it", provider.Markup);
            Assert.DoesNotContain("A key of 1 to 253 characters", provider.Markup);
        }, TimeSpan.FromSeconds(5));
        provider.Find("button:contains('Save rule')").Click();

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5));
        var rule = Assert.IsType<PolicyRule>(result!.Data);
        Assert.Equal("corp-only", rule.Name);
        Assert.Equal(["team-a/**"], rule.Repositories);
        Assert.Equal([new KeyCondition("team", ConditionOp.Equals, "payments"), new KeyCondition("deprecated", ConditionOp.NotExists)], rule.Labels);
    }

    [Fact]
    public async Task The_editor_previews_which_stream_tags_the_conditions_match_as_one_types()
    {
        await SignInAsync("admin", admin: true);
        await Services.GetRequiredService<Dashboard.Domain.Namespaces.NamespaceService>().CreateAsync(Dashboard.Domain.Access.Caller.System, "team-a");
        var streams = Services.GetRequiredService<Dashboard.Domain.ImageStreams.ImageStreamService>();
        await streams.CreateAsync(Dashboard.Domain.Access.Caller.System, "team-a", "app");
        foreach (var (tag, from) in new[] { ("1", "quay.io/org/app:1"), ("2", "ghcr.io/org/app:2") })
        {
            await streams.SetTagAsync(Dashboard.Domain.Access.Caller.System, "team-a", "app",
                new Dashboard.Domain.ImageStreams.TagSpec(tag, Dashboard.Domain.ImageStreams.TagSourceKind.DockerImage, from));
        }

        var provider = Render<MudDialogProvider>();
        await provider.InvokeAsync(() => Services.GetRequiredService<IDialogService>().ShowAsync<RuleEditorDialog>("New rule",
            new DialogParameters<RuleEditorDialog> { { d => d.Others, [] } }));
        provider.WaitForAssertion(() => Assert.Contains("The conditions match 2 of 2 stream tags", provider.Markup));

        provider.FindAll("input")[0].Input("quay-only");
        provider.FindAll("textarea")[1].Input("quay.io");
        provider.WaitForAssertion(() => Assert.Contains("The conditions match 1 of 2 stream tags", provider.Markup), TimeSpan.FromSeconds(5));
        Assert.Contains("team-a/app:1 ← quay.io/org/app:1", provider.Markup);
    }
}
