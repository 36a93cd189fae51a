using Bunit;
using NamespacesPage = Dashboard.Components.Pages.Namespaces;
using Dashboard.Domain.Access;
using Dashboard.Domain.Namespaces;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

public sealed class NamespacesPageTests : ConsoleContext
{
    [Fact]
    public async Task An_admin_gets_an_error_next_to_the_field_for_an_invalid_name_and_nothing_is_created()
    {
        await SignInAsync("admin", admin: true);
        var page = Render<NamespacesPage>();

        var field = page.WaitForElement("input");
        field.Input("Bad Name");

        page.WaitForAssertion(() => Assert.Contains("Use lower-case letters", page.Markup));
        Assert.True(page.Find("button:contains('Create')").HasAttribute("disabled"));
        Assert.Empty(await Services.GetRequiredService<NamespaceService>().ListAsync(Caller.System));
    }

    [Fact]
    public async Task An_admin_creates_a_namespace_and_sees_it_listed()
    {
        await SignInAsync("admin", admin: true);
        var page = Render<NamespacesPage>();

        page.WaitForElement("input").Input("payments");
        page.WaitForAssertion(() => Assert.False(page.Find("button:contains('Create')").HasAttribute("disabled")));
        page.Find("button:contains('Create')").Click();

        page.WaitForAssertion(() => Assert.Contains("href=\"namespaces/payments\"", page.Markup));
    }

    [Fact]
    public async Task A_member_sees_their_namespaces_without_create_or_delete()
    {
        var viewer = await SignInAsync("viewer");
        await Services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "mine");
        await Services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "theirs");
        await using (var db = await Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Dashboard.Domain.Persistence.DashboardDbContext>>().CreateDbContextAsync())
        {
            db.Memberships.Add(new NamespaceMembership(db.Namespaces.Single(n => n.Name == "mine").Id, viewer.UserId, NamespaceRole.Viewer));
            await db.SaveChangesAsync();
        }

        var page = Render<NamespacesPage>();

        page.WaitForAssertion(() => Assert.Contains("mine", page.Markup));
        Assert.DoesNotContain("theirs", page.Markup);
        Assert.DoesNotContain("New namespace", page.Markup);
        Assert.Empty(page.FindAll("button[aria-label^='Delete namespace']"));
    }

    [Fact]
    public async Task An_admin_allows_anonymous_pulls_with_the_switch_and_the_page_says_what_it_means()
    {
        await SignInAsync("admin", admin: true);
        var service = Services.GetRequiredService<NamespaceService>();
        await service.CreateAsync(Caller.System, "public-images");
        var page = Render<Dashboard.Components.Pages.NamespaceDetail>(p => p.Add(x => x.Name, "public-images"));

        page.WaitForAssertion(() => Assert.Contains("need a login", page.Find("[data-testid=anonymous-pull]").TextContent));
        page.Find("input[aria-label='Allow anonymous pulls']").Change(true);

        page.WaitForAssertion(() => Assert.Contains("without logging in", page.Find("[data-testid=anonymous-pull]").TextContent));
        Assert.True((await service.GetAsync(Caller.System, "public-images")).AnonymousPull);
    }

    [Fact]
    public async Task A_viewer_sees_whether_anonymous_pulls_are_allowed_but_no_switch()
    {
        var viewer = await SignInAsync("viewer");
        var service = Services.GetRequiredService<NamespaceService>();
        await service.CreateAsync(Caller.System, "open");
        await service.SetAnonymousPullAsync(Caller.System, "open", true);
        await using (var db = await Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Dashboard.Domain.Persistence.DashboardDbContext>>().CreateDbContextAsync())
        {
            db.Memberships.Add(new NamespaceMembership(db.Namespaces.Single(n => n.Name == "open").Id, viewer.UserId, NamespaceRole.Viewer));
            await db.SaveChangesAsync();
        }

        var page = Render<Dashboard.Components.Pages.NamespaceDetail>(p => p.Add(x => x.Name, "open"));

        page.WaitForAssertion(() => Assert.Contains("without logging in", page.Find("[data-testid=anonymous-pull]").TextContent));
        Assert.Empty(page.FindAll("input[aria-label='Allow anonymous pulls']"));
        // The members table lists the viewer (its query once failed to translate, and the page showed an error).
        Assert.Contains("viewer", page.Find("table").TextContent);
        await Assert.ThrowsAsync<Dashboard.Domain.ForbiddenException>(() => service.SetAnonymousPullAsync(
            new Caller(viewer.UserId, "viewer", false), "open", false));
    }

    [Fact]
    public async Task An_admin_shares_a_namespace_with_the_cluster_with_the_switch_and_the_page_says_what_it_means()
    {
        await SignInAsync("admin", admin: true);
        var service = Services.GetRequiredService<NamespaceService>();
        await service.CreateAsync(Caller.System, "base-images");
        var page = Render<Dashboard.Components.Pages.NamespaceDetail>(p => p.Add(x => x.Name, "base-images"));

        page.WaitForAssertion(() => Assert.Contains("only for workloads in this namespace", page.Find("[data-testid=shared]").TextContent));
        page.Find("input[aria-label='Shared with the cluster']").Change(true);

        page.WaitForAssertion(() => Assert.Contains("every namespace", page.Find("[data-testid=shared]").TextContent));
        Assert.True((await service.GetAsync(Caller.System, "base-images")).Shared);
        await Assert.ThrowsAsync<Dashboard.Domain.ForbiddenException>(() => service.SetSharedAsync(new Caller("someone", "someone", false), "base-images", false));
    }
}
