using E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace E2E;

[Collection(DashboardCollection.Name)]
public sealed class PolicyTests(DashboardServer server)
{
    [Fact]
    public async Task Admin_writes_a_whitelist_rule_and_the_try_it_panel_refuses_a_deployment_from_elsewhere_with_the_reason()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("policies");
        await page.SignInAsync(DashboardServer.AdminUser, DashboardServer.AdminPassword);
        await page.WaitForInteractiveAsync();
        await Expect(page.Heading("Image policy")).ToBeVisibleAsync();

        await page.Button("New rule").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync("corp-registry");
        await dialog.GetByLabel("Description (the reason people are shown)").FillAsync("Run images from the corporate registry.");
        await dialog.GetByText("Deny (blacklist)").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Allow (whitelist)" }).ClickAsync();
        // A bad pattern is explained in place and nothing is saved.
        await dialog.GetByLabel("Registries").FillAsync("registry corp");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save rule", Exact = true }).ClickAsync();
        await Expect(dialog.GetByText("'registry corp' has ' ', which cannot be in it", new() { Exact = false })).ToBeVisibleAsync();
        await dialog.GetByLabel("Registries").FillAsync("registry.corp.example.com");
        await Expect(dialog.GetByText("which cannot be in it", new() { Exact = false })).ToHaveCountAsync(0);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save rule", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await page.DismissNoteAsync("Rule corp-registry saved.");
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "corp-registry" });
        await Expect(row.GetByText("registry registry.corp.example.com")).ToBeVisibleAsync();

        await page.GetByLabel("Namespace", new() { Exact = true }).FillAsync("shop");
        await page.GetByLabel("Image references (one per line), or a Pod, Deployment or Build as YAML or JSON").FillAsync("""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                  - name: app
                    image: registry.corp.example.com/shop/web:2.1
                  - name: cache
                    image: redis:7
            """);
        await page.Button("Evaluate").ClickAsync();

        await Expect(page.GetByText("Refused for pods")).ToBeVisibleAsync();
        await Expect(page.GetByText("container cache: image docker.io/library/redis:7 is refused by rule 'corp-registry': "
            + "it matches no Allow rule; it must match one of: corp-registry (Run images from the corporate registry.)")).ToBeVisibleAsync();
        // The trace: the corporate image is allowed by the rule, with the pattern that matched.
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "registry.corp.example.com/shop/web:2.1" }))
            .ToContainTextAsync("allows: registry 'registry.corp.example.com' matches 'registry.corp.example.com'");

        // Leave no rule behind for the other browser tests.
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete rule corp-registry" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await page.DismissNoteAsync("Rule corp-registry deleted.");
        await Expect(page.Heading("No rules")).ToBeVisibleAsync();
    }
}
