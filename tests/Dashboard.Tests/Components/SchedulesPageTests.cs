using Bunit;
using Dashboard.Components.Pages;
using Dashboard.Domain.Access;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

public sealed class SchedulesPageTests : ConsoleContext
{
    [Fact]
    public async Task A_scheduled_tag_is_listed_with_its_next_check_and_the_failing_filter_hides_it()
    {
        await SignInAsync("admin", admin: true);
        await Services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "team-a");
        var streams = Services.GetRequiredService<ImageStreamService>();
        await streams.CreateAsync(Caller.System, "team-a", "app");
        await streams.SetTagAsync(Caller.System, "team-a", "app", new TagSpec("1.0", TagSourceKind.DockerImage, "quay.io/org/app:1.0", Scheduled: true));
        await Services.GetRequiredService<ImportScheduler>().TickAsync();

        var page = Render<Schedules>();

        page.WaitForAssertion(() => Assert.Contains("team-a/app:1.0", page.Markup));
        Assert.Contains("quay.io/org/app:1.0", page.Markup);
        Assert.Contains("15 min", page.Markup);
        Assert.Contains("not yet", page.Markup);

        page.Find("input[type=checkbox]").Change(true);
        page.WaitForAssertion(() => Assert.DoesNotContain("team-a/app:1.0", page.Markup));
    }

    [Fact]
    public async Task Finished_checks_reach_the_open_page_counters_and_chart_without_a_reload()
    {
        await SignInAsync("admin", admin: true);
        var page = Render<Schedules>();
        page.WaitForAssertion(() => Assert.Equal("0", page.Find("svg[data-checks]").GetAttribute("data-checks")));

        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        await Services.GetRequiredService<ScheduleActivity>().RecordAsync(
        [
            new CheckResult(now, TimeSpan.FromMilliseconds(120), "Imported", true, true),
            new CheckResult(now, TimeSpan.FromMilliseconds(80), "Unreachable", false, false),
            new CheckResult(now, TimeSpan.FromMilliseconds(90), "Unchanged", true, false),
        ]);

        page.WaitForAssertion(() =>
        {
            Assert.Equal("3", page.Find("svg[data-checks]").GetAttribute("data-checks"));
            Assert.Equal("1", page.Find("svg[data-failures]").GetAttribute("data-failures"));
        }, TimeSpan.FromSeconds(5));
        Assert.Contains("checks last hour · 1 changes", page.Markup);
        Assert.Contains("3 / 60", page.Markup);
    }
}
