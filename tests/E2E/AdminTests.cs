using System.Text.RegularExpressions;
using E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace E2E;

[Collection(DashboardCollection.Name)]
public sealed class AdminTests(DashboardServer server)
{
    // The ImportSuccess=False reasons (RegistryFailure) an unreachable or refusing registry gives.
    private static readonly Regex ImportFailure = new("^(Unreachable|Unauthorized|Forbidden|NotFound)$");

    [Fact]
    public async Task Admin_signs_in_creates_a_namespace_and_an_image_stream_tags_it_and_signs_out()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("");
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"));
        await page.SignInAsync(DashboardServer.AdminUser, DashboardServer.AdminPassword);
        await page.WaitForInteractiveAsync();
        await Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync(DashboardServer.AdminUser);
        await Expect(page.NavLink("Users")).ToBeVisibleAsync();

        await page.NavLink("Namespaces").ClickAsync();
        await Expect(page.Heading("Namespaces")).ToBeVisibleAsync();
        await page.GetByLabel("New namespace").FillAsync("e2e-shop");
        await page.Button("Create").ClickAsync();
        await Expect(page.Link("e2e-shop")).ToBeVisibleAsync();
        await page.DismissNoteAsync("Namespace e2e-shop created.");
        // A neighbour for the search box to leave out.
        await server.CreateImageStreamAsync("e2e-shop", "worker");

        await page.NavLink("Image streams").ClickAsync();
        await page.Button("New image stream").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Namespace").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "e2e-shop", Exact = true }).ClickAsync();
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync("frontend");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page.Heading("frontend")).ToBeVisibleAsync();
        await page.DismissNoteAsync("Image stream e2e-shop/frontend created.");

        await page.NavLink("Image streams").ClickAsync();
        await Expect(page.Link("worker")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Textbox, new() { Name = "Search image streams" }).FillAsync("e2e-shop/front");
        var rows = page.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Cell, new() { Name = "e2e-shop", Exact = true }) });
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(page.Link("worker")).ToHaveCountAsync(0);
        await page.Link("frontend").ClickAsync();

        await Expect(page.Heading("frontend")).ToBeVisibleAsync();
        await page.Button("Add tag").ClickAsync();
        dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Tag", new() { Exact = true }).FillAsync("1.2");
        await dialog.GetByLabel("Image (registry/repository:tag)").FillAsync("quay.io/org/app:1.2");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save and import", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        // quay.io is out of reach from the test machine (or refuses an anonymous pull of a made-up repository): the tag is
        // saved all the same, and the row says why it has no image. ImportTests covers an import that succeeds.
        await page.DismissNoteAsync("Tag 1.2 saved.");
        var tagRow = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "quay.io/org/app:1.2" });
        await Expect(tagRow.GetByRole(AriaRole.Cell).First).ToHaveTextAsync("1.2");
        await Expect(tagRow.GetByRole(AriaRole.Cell, new() { Name = "not imported yet" })).ToBeVisibleAsync();
        await Expect(tagRow.GetByText(ImportFailure)).ToBeVisibleAsync();
        await Expect(page.Button("Edit tag 1.2")).ToBeVisibleAsync();

        // The tag is stored, not only shown.
        await page.ReloadAsync();
        await page.WaitForInteractiveAsync();
        await Expect(tagRow.GetByRole(AriaRole.Cell).First).ToHaveTextAsync("1.2");
        await Expect(tagRow.GetByText(ImportFailure)).ToBeVisibleAsync();

        await page.Button("Sign out").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"));
        await Expect(page.GetByText("You are signed out.")).ToBeVisibleAsync();
    }
}
