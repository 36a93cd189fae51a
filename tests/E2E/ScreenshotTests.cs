using Dashboard.Tests.Infrastructure;
using E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace E2E;

/// <summary>
/// The README's pictures of the main pages, taken by this run with realistic data: each page must show its content
/// before it is photographed. They land in <c>.test-results/screenshots</c>; <c>UPDATE_SCREENSHOTS=1 ./test.sh</c> writes
/// them to <c>docs/screenshots</c> instead, so a change to a page is one command away from its picture (and a plain
/// test run leaves the tree clean).
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class ScreenshotTests(DashboardServer server)
{
    [Fact]
    public async Task The_main_pages_show_their_content_and_are_photographed_for_the_README()
    {
        await using var registry = await RegistryServer.StartAsync();
        foreach (var tag in new[] { "1.24", "1.25", "1.26", "latest" })
        {
            await ImagePusher.PushImageAsync(registry, "library/nginx", tag, new Dictionary<string, string> { ["org.opencontainers.image.version"] = tag }, seed: tag);
        }

        await ImagePusher.PushImageAsync(registry, "team/checkout", "2.3.1", seed: "checkout");
        await server.CreateNamespaceAsync("storefront");
        foreach (var stream in new[] { "nginx", "checkout", "mailer" })
        {
            await server.CreateImageStreamAsync("storefront", stream);
        }

        await server.CreateNamespaceAsync("payments");
        await server.CreateImageStreamAsync("payments", "ledger");
        foreach (var tag in new[] { "1.24", "1.25", "1.26", "latest" })
        {
            await server.SetTagAsync("storefront", "nginx", tag, $"{registry.Host}/library/nginx:{tag}", insecure: true, scheduled: tag is "latest" or "1.26");
        }

        await server.SetTagAsync("storefront", "checkout", "2.3.1", $"{registry.Host}/team/checkout:2.3.1", insecure: true, scheduled: true);
        var rules = await server.GetPolicyRulesAsync();
        await server.PutPolicyRulesAsync(new object[]
        {
            new { name = "trusted-registries", description = "Pods run images from the corporate mirror or the dashboard.", action = "Allow",
                registries = new[] { "registry.corp.example.com", registry.Host } },
            new { name = "no-latest", description = "Pin a version: latest moves under you.", action = "Deny", enforcement = "Warn", tags = new[] { "latest" } },
        });
        try
        {
            await using var context = await server.NewContextAsync();
            var page = await context.NewPageAsync();
            await page.GotoAsync("imagestreams");
            await page.SignInAsync(DashboardServer.AdminUser, DashboardServer.AdminPassword);
            await page.WaitForInteractiveAsync();

            await Expect(page.Link("nginx")).ToBeVisibleAsync();
            await ShootAsync(page, "image-streams");

            await page.GotoAsync("imagestreams/storefront/nginx");
            await page.WaitForInteractiveAsync();
            await Expect(page.GetByTestId("tags").GetByRole(AriaRole.Row).Filter(new() { HasText = "library/nginx:" })).ToHaveCountAsync(4);
            await ShootAsync(page, "image-stream");

            await page.GotoAsync("schedules");
            await page.WaitForInteractiveAsync();
            await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "storefront/checkout:2.3.1" })).ToBeVisibleAsync();
            await ShootAsync(page, "schedules");

            await page.GotoAsync("policies");
            await page.WaitForInteractiveAsync();
            await Expect(page.GetByText("no-latest").First).ToBeVisibleAsync();
            await ShootAsync(page, "policies");

            await page.GotoAsync("events");
            await page.WaitForInteractiveAsync();
            await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "nginx:latest" }).First).ToBeVisibleAsync();
            await ShootAsync(page, "events");
        }
        finally
        {
            await server.PutPolicyRulesAsync(rules);
        }
    }

    private static async Task ShootAsync(IPage page, string name)
    {
        var directory = Environment.GetEnvironmentVariable("UPDATE_SCREENSHOTS") == "1"
            ? Repository.PathOf("docs", "screenshots")
            : Repository.PathOf(".test-results", "screenshots");
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png") });
    }
}
