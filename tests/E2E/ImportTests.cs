using System.Text.RegularExpressions;
using Dashboard.Tests.Infrastructure;
using E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace E2E;

[Collection(DashboardCollection.Name)]
public sealed class ImportTests(DashboardServer server)
{
    [Fact]
    public async Task Admin_adds_a_pull_secret_tags_an_image_from_a_registry_that_needs_it_imports_it_and_sees_its_size_and_layers()
    {
        await using var registry = await RegistryServer.StartAsync(RegistryAuth.Basic);
        var pushed = await ImagePusher.PushImageAsync(registry, "team/app", "1.0",
            new Dictionary<string, string> { ["org.opencontainers.image.version"] = "1.0-e2e" });
        var source = $"{registry.Host}/team/app:1.0";
        var shortDigest = pushed.Digest[..("sha256:".Length + 12)];
        await server.CreateNamespaceAsync("e2e-import");
        await server.CreateImageStreamAsync("e2e-import", "app");
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("pullsecrets?namespace=e2e-import");
        await page.SignInAsync(DashboardServer.AdminUser, DashboardServer.AdminPassword);
        await Expect(page).ToHaveURLAsync(new Regex("/pullsecrets\\?namespace=e2e-import$"));
        await page.WaitForInteractiveAsync();
        await Expect(page.Heading("No pull secrets")).ToBeVisibleAsync();
        await page.Button("New pull secret").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync("local-registry");
        await dialog.GetByLabel("Registry", new() { Exact = true }).FillAsync(registry.Host);
        await dialog.GetByLabel("User name").FillAsync(RegistryServer.User);
        await dialog.GetByLabel("Password or token").FillAsync(RegistryServer.Password);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await page.DismissNoteAsync("Pull secret local-registry saved.");
        var secretRow = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "local-registry" });
        await Expect(secretRow.GetByText($"{RegistryServer.User} @ {registry.Host}", new() { Exact = true })).ToBeVisibleAsync();
        // The password is write-only: nothing on the page shows it again.
        await Expect(page.GetByText(RegistryServer.Password)).ToHaveCountAsync(0);

        await page.GetByLabel("Image", new() { Exact = true }).FillAsync(source);
        await page.GetByLabel("Insecure registry").CheckAsync();
        await page.Button("Test").ClickAsync();
        var testRow = page.GetByRole(AriaRole.Row).Filter(new() { HasText = registry.Host + " accepted them." });
        await Expect(testRow.GetByRole(AriaRole.Cell).First).ToHaveTextAsync("local-registry");
        await Expect(testRow.GetByText("accepted", new() { Exact = true })).ToBeVisibleAsync();

        await page.GotoAsync("imagestreams/e2e-import/app");
        await page.WaitForInteractiveAsync();
        await Expect(page.Heading("app")).ToBeVisibleAsync();
        await page.Button("Add tag").ClickAsync();
        dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Tag", new() { Exact = true }).FillAsync("1.0");
        await dialog.GetByLabel("Image (registry/repository:tag)").FillAsync(source);
        // The test registry speaks plain HTTP.
        await dialog.GetByLabel("Allow plain HTTP / unverified TLS").CheckAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save and import", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await page.DismissNoteAsync($"Tag 1.0 saved. Imported {pushed.Digest[7..19]}");
        var tagRow = page.GetByRole(AriaRole.Row).Filter(new() { HasText = source });
        await Expect(tagRow.GetByRole(AriaRole.Link, new() { Name = shortDigest, Exact = true })).ToBeVisibleAsync();
        await Expect(tagRow.GetByText("Imported", new() { Exact = true })).ToBeVisibleAsync();

        // Importing again finds the registry's tag where it was.
        await page.Button("Import tag 1.0").ClickAsync();
        await page.DismissNoteAsync($"1.0: Unchanged at {pushed.Digest[7..19]}");
        await Expect(tagRow.GetByText("Imported", new() { Exact = true })).ToBeVisibleAsync();

        await tagRow.GetByRole(AriaRole.Link, new() { Name = shortDigest, Exact = true }).ClickAsync();
        await Expect(page.Heading(pushed.Digest)).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = $"{registry.Host}/team/app@{pushed.Digest}", Exact = true })).ToBeVisibleAsync();
        // A layer and a config of a few hundred bytes: the size reads in bytes.
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = $"{pushed.LayerSize} B ({pushed.LayerSize:N0} bytes)", Exact = true })).ToBeVisibleAsync();
        await Expect(page.Heading("Layers (1)")).ToBeVisibleAsync();
        var layers = page.GetByRole(AriaRole.Table).Filter(new() { Has = page.GetByRole(AriaRole.Columnheader, new() { Name = "#", Exact = true }) });
        var layerRows = layers.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Cell) });
        await Expect(layerRows).ToHaveCountAsync(1);
        await Expect(layerRows.GetByText("application/vnd.oci.image.layer.v1.tar+gzip")).ToBeVisibleAsync();
        var label = page.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByText("org.opencontainers.image.version", new() { Exact = true }) });
        await Expect(label.GetByRole(AriaRole.Cell)).ToHaveTextAsync("1.0-e2e");
        await Expect(page.Link("e2e-import/app:1.0")).ToBeVisibleAsync();

        // The tag moves upstream: the import button brings the new image into the row in place, without a reload.
        await page.Link("e2e-import/app:1.0").ClickAsync();
        await page.WaitForInteractiveAsync();
        var moved = await ImagePusher.PushImageAsync(registry, "team/app", "1.0", seed: "moved");
        await page.Button("Import tag 1.0").ClickAsync();
        await page.DismissNoteAsync($"1.0: Imported {moved.Digest[7..19]}");
        await Expect(tagRow.GetByRole(AriaRole.Link, new() { Name = moved.Digest[..("sha256:".Length + 12)], Exact = true })).ToBeVisibleAsync();
        await Expect(tagRow.GetByRole(AriaRole.Button, new() { Name = "History (2)" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_repository_import_shows_its_progress_goes_on_when_the_dialog_closes_and_the_stream_page_follows_it()
    {
        await using var registry = await RegistryServer.StartAsync();
        var tags = Enumerable.Range(1, 12).Select(i => $"1.{i}").ToList();
        foreach (var tag in tags)
        {
            await ImagePusher.PushImageAsync(registry, "team/many", tag, seed: tag);
        }

        // Four requests a second to this registry (three per tag): the import takes seconds, long enough to leave it running.
        await server.PutImportSettingsAsync(new { registryOverrides = new object[] { new { host = registry.Host, requestsPerSecond = 4 } } });
        try
        {
            await server.CreateNamespaceAsync("e2e-repo");
            await server.CreateImageStreamAsync("e2e-repo", "many");
            await using var context = await server.NewContextAsync();
            var page = await context.NewPageAsync();
            await page.GotoAsync("imagestreams/e2e-repo/many");
            await page.SignInAsync(DashboardServer.AdminUser, DashboardServer.AdminPassword);
            await page.WaitForInteractiveAsync();

            await page.Button("Import repository").ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog);
            await dialog.GetByLabel("Repository").FillAsync($"{registry.Host}/team/many");
            await dialog.GetByLabel("Insecure registry").CheckAsync();
            await dialog.GetByRole(AriaRole.Button, new() { Name = "List tags", Exact = true }).ClickAsync();
            await Expect(dialog.GetByText("12 tag(s) will be imported")).ToBeVisibleAsync();
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();

            var progress = dialog.GetByTestId("repository-import");
            await Expect(progress).ToContainTextAsync(new Regex(@"Importing .*team/many: \d+ of 12 tag\(s\) done"));
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Close (the import goes on)", Exact = true }).ClickAsync();
            await Expect(dialog).ToBeHiddenAsync();

            // The stream page follows the import without a reload, to its end.
            var status = page.GetByTestId("repository-import");
            await Expect(status).ToContainTextAsync(new Regex(@"Importing .*team/many: \d+ of 12"));
            await Expect(status).ToContainTextAsync($"Imported {registry.Host}/team/many: 12 of 12 tag(s)", new() { Timeout = 30_000 });
            var rows = page.GetByTestId("tags").GetByRole(AriaRole.Row).Filter(new() { HasText = $"{registry.Host}/team/many:" });
            await Expect(rows).ToHaveCountAsync(12);
        }
        finally
        {
            await server.PutImportSettingsAsync(new { registryOverrides = Array.Empty<object>() });
        }
    }
}
