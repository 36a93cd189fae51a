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
}
