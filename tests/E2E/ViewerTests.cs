using System.Text.RegularExpressions;
using E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace E2E;

[Collection(DashboardCollection.Name)]
public sealed class ViewerTests(DashboardServer server)
{
    [Fact]
    public async Task Viewer_sees_streams_of_their_namespace_without_any_editing_controls_or_admin_pages()
    {
        await server.CreateViewerAsync("e2e-viewer", "e2e-team", "api");
        await server.SetTagAsync("e2e-team", "api", "latest", "quay.io/org/api:latest");
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("imagestreams");
        await page.SignInAsync("e2e-viewer", DashboardServer.UserPassword);
        await Expect(page).ToHaveURLAsync(new Regex("/imagestreams$"));
        await page.WaitForInteractiveAsync();
        await Expect(page.Link("api")).ToBeVisibleAsync();
        await Expect(page.Button("New image stream")).ToHaveCountAsync(0);
        await Expect(page.NavLink("Image streams")).ToBeVisibleAsync();
        await Expect(page.NavLink("Users")).ToHaveCountAsync(0);

        await page.Link("api").ClickAsync();
        await Expect(page.Heading("api")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = "latest", Exact = true })).ToBeVisibleAsync();
        await Expect(page.Button("Add tag")).ToHaveCountAsync(0);
        await Expect(page.Button("Delete stream")).ToHaveCountAsync(0);
        await Expect(page.Button("Edit tag latest")).ToHaveCountAsync(0);
        await Expect(page.Button("Delete tag latest")).ToHaveCountAsync(0);

        await page.GotoAsync("users");
        await Expect(page.Heading("Not allowed")).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/account/denied"));
    }
}
