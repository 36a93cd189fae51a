using Bunit;
using Dashboard.Components.Pages;
using Dashboard.Domain.Access;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

public sealed class ImageStreamDetailTests : ConsoleContext
{
    private async Task SeedAsync(Caller member, NamespaceRole role)
    {
        var namespaces = Services.GetRequiredService<NamespaceService>();
        var streams = Services.GetRequiredService<ImageStreamService>();
        await namespaces.CreateAsync(Caller.System, "team-a");
        await streams.CreateAsync(Caller.System, "team-a", "app");
        await streams.SetTagAsync(Caller.System, "team-a", "app", new TagSpec("1.0", TagSourceKind.DockerImage, "quay.io/org/app:1.0", Scheduled: true));
        await streams.RecordImportAsync(Caller.System, "team-a", "app", "1.0", TestImages.Sample("detail"));
        await using var db = await Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Dashboard.Domain.Persistence.DashboardDbContext>>().CreateDbContextAsync();
        var ns = db.Namespaces.Single(n => n.Name == "team-a");
        db.Memberships.Add(new NamespaceMembership(ns.Id, member.UserId, role));
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task A_viewer_sees_tags_and_images_but_no_edit_controls()
    {
        var viewer = await SignInAsync("viewer");
        await SeedAsync(viewer, NamespaceRole.Viewer);

        var page = Render<ImageStreamDetail>(p => p.Add(c => c.Namespace, "team-a").Add(c => c.Name, "app"));

        page.WaitForAssertion(() => Assert.Contains("quay.io/org/app:1.0", page.Markup));
        Assert.Contains("sha256:", page.Markup);
        Assert.DoesNotContain("Add tag", page.Markup);
        Assert.DoesNotContain("Delete stream", page.Markup);
        Assert.Empty(page.FindAll("button[aria-label^='Edit tag'], button[aria-label^='Delete tag']"));
    }

    [Fact]
    public async Task Tags_are_listed_in_import_priority_by_default_and_by_name_on_request()
    {
        var viewer = await SignInAsync("sorter");
        await SeedAsync(viewer, NamespaceRole.Viewer);
        var streams = Services.GetRequiredService<ImageStreamService>();
        foreach (var tag in new[] { "v9", "v10", "latest", "nightly" })
        {
            await streams.SetTagAsync(Caller.System, "team-a", "app", new TagSpec(tag, TagSourceKind.DockerImage, $"quay.io/org/app:{tag}"));
        }

        var page = Render<ImageStreamDetail>(p => p.Add(c => c.Namespace, "team-a").Add(c => c.Name, "app"));
        IReadOnlyList<string> Listed() => [.. page.FindAll("[data-testid=tags] tbody tr td:first-child").Select(td => td.TextContent.Trim())];

        page.WaitForAssertion(() => Assert.Equal(["latest", "v10", "v9", "1.0", "nightly"], Listed()));
        page.Find("input[aria-label='Sort tags by name']").Change(true);
        page.WaitForAssertion(() => Assert.Equal(["1.0", "latest", "nightly", "v10", "v9"], Listed()));
    }

    [Fact]
    public async Task An_editor_sees_the_edit_controls()
    {
        var editor = await SignInAsync("editor");
        await SeedAsync(editor, NamespaceRole.Editor);

        var page = Render<ImageStreamDetail>(p => p.Add(c => c.Namespace, "team-a").Add(c => c.Name, "app"));

        page.WaitForAssertion(() => Assert.Contains("Add tag", page.Markup));
        Assert.Contains("Delete stream", page.Markup);
        Assert.Single(page.FindAll("button[aria-label='Edit tag 1.0']"));
    }

    [Fact]
    public async Task A_stream_outside_the_callers_namespaces_reads_as_not_found()
    {
        await SignInAsync("stranger");
        await SeedAsync(await SignInAsync("someone-else"), NamespaceRole.Editor);
        await SignInAsync("stranger2");

        var page = Render<ImageStreamDetail>(p => p.Add(c => c.Namespace, "team-a").Add(c => c.Name, "app"));

        page.WaitForAssertion(() => Assert.Contains("does not exist", page.Markup));
        Assert.DoesNotContain("quay.io/org/app", page.Markup);
    }
}
