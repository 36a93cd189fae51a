using System.Text.RegularExpressions;
using Dashboard.Tests.Infrastructure;
using E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace E2E;

[Collection(DashboardCollection.Name)]
public sealed class ScheduleTests(DashboardServer server)
{
    [Fact]
    public async Task Admin_schedules_a_tag_sees_it_on_the_schedule_page_and_an_import_updates_the_open_page_in_place()
    {
        await using var registry = await RegistryServer.StartAsync();
        await ImagePusher.PushImageAsync(registry, "team/sched", "1.0", seed: "first");
        var source = $"{registry.Host}/team/sched:1.0";
        await server.CreateNamespaceAsync("e2e-sched");
        await server.CreateImageStreamAsync("e2e-sched", "app");
        await using var context = await server.NewContextAsync();
        var stream = await context.NewPageAsync();

        await stream.GotoAsync("imagestreams/e2e-sched/app");
        await stream.SignInAsync(DashboardServer.AdminUser, DashboardServer.AdminPassword);
        await stream.WaitForInteractiveAsync();
        await stream.Button("Add tag").ClickAsync();
        var dialog = stream.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Tag", new() { Exact = true }).FillAsync("1.0");
        await dialog.GetByLabel("Image (registry/repository:tag)").FillAsync(source);
        await dialog.GetByLabel("Allow plain HTTP / unverified TLS").CheckAsync();
        await dialog.GetByLabel("Re-import on a schedule").CheckAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save and import", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();

        // The tag has its schedule from the moment it is saved, and the import at set time is its first check: the page
        // lists it at once with its source, that check's result and the next check.
        var schedules = await context.NewPageAsync();
        await schedules.GotoAsync("schedules");
        await schedules.WaitForInteractiveAsync();
        var row = schedules.GetByRole(AriaRole.Row).Filter(new() { HasText = "e2e-sched/app:1.0" });
        await Expect(row).ToBeVisibleAsync();
        await Expect(row.GetByText("Imported", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(row.GetByText(source, new() { Exact = true })).ToBeVisibleAsync();
        await Expect(row.GetByText("15 min", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(row.GetByText(new Regex(@"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"))).ToBeVisibleAsync();

        // An import from the other tab counts as the tag's check: the open schedule page shows it without a reload.
        var moved = await ImagePusher.PushImageAsync(registry, "team/sched", "1.0", seed: "moved");
        await stream.BringToFrontAsync();
        await stream.Button("Import tag 1.0").ClickAsync();
        await stream.DismissNoteAsync($"1.0: Imported {moved.Digest[7..19]}");
        await Expect(row.GetByText("Imported", new() { Exact = true })).ToBeVisibleAsync(new() { Timeout = 10_000 });
        await Expect(row.GetByText("just now", new() { Exact = false }).First).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_scraper_on_loopback_reads_metrics_without_a_session()
    {
        // The real server, over a real socket: the scraper's address is loopback, which the default setting allows.
        using var scraper = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await scraper.GetAsync("metrics");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
        var text = await response.Content.ReadAsStringAsync();
        // Series that are there from the start (the check duration histogram appears with the first check: MetricsTests).
        Assert.Matches(@"(?m)^dashboard_webhook_deliveries_total\{result=""succeeded""\} \d+$", text);
        Assert.Matches(@"(?m)^dashboard_scheduled_tags \d+$", text);
        Assert.Matches(@"(?m)^dashboard_job_workers [1-9]\d*$", text);
    }
}
