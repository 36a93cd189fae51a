using Bunit;
using Dashboard.Domain.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using SettingsPage = Dashboard.Components.Pages.Settings;

namespace Dashboard.Tests.Components;

public sealed class SettingsPageTests : ConsoleContext
{
    [Fact]
    public async Task A_bad_tick_is_shown_next_to_its_field_and_a_good_change_applies_at_once()
    {
        await SignInAsync("admin", admin: true);
        var page = Render<SettingsPage>();
        page.WaitForElement("input");
        // Default interval, minimum interval, checks per minute, tick, the off switch.
        page.FindAll("input")[3].Change("90");
        page.Find("button:contains('Save')").Click();

        page.WaitForAssertion(() => Assert.Contains("Use a number of seconds under 60", page.Markup));
        Assert.Equal(60, Services.GetRequiredService<ScheduleSettings>().Current.TickSeconds);

        page.FindAll("input")[3].Change("120");
        page.Find("button:contains('Save')").Click();
        page.WaitForAssertion(() => Assert.Equal(120, Services.GetRequiredService<ScheduleSettings>().Current.TickSeconds));
        Assert.DoesNotContain("Use a number of seconds under 60", page.Markup);
    }
}
