using Bunit;
using Dashboard.Domain.Registry.Mirrors;
using Microsoft.Extensions.DependencyInjection;
using MirrorsPage = Dashboard.Components.Pages.Mirrors;

namespace Dashboard.Tests.Components;

public sealed class MirrorsPageTests : ConsoleContext
{
    [Fact]
    public async Task A_bad_entry_is_named_on_the_page_a_good_document_applies_and_the_places_tried_are_shown()
    {
        await SignInAsync("admin", admin: true);
        var page = Render<MirrorsPage>();
        page.WaitForElement("textarea");

        page.Find("textarea").Change("""{"imageTagMirrors":[{"source":"docker.io/library","mirrors":["not a host"]}]}""");
        page.Find("button:contains('Save')").Click();
        page.WaitForAssertion(() => Assert.Contains("imageTagMirrors[0].mirrors[0]: 'not a host' is not a registry host", page.Markup));
        Assert.Empty((await Services.GetRequiredService<MirrorStore>().CurrentAsync()).ImageTagMirrors);

        page.Find("textarea").Change("""{"imageTagMirrors":[{"source":"docker.io/library","mirrors":["mirror.example.com/hub"],"mirrorSourcePolicy":"NeverContactSource"}]}""");
        page.Find("button:contains('Save')").Click();
        page.WaitForAssertion(() => Assert.Single(Services.GetRequiredService<MirrorStore>().CurrentAsync().AsTask().Result.ImageTagMirrors));
        Assert.DoesNotContain("not a registry host", page.Markup);

        page.Find("input").Change("nginx:1.27");
        page.Find("button:contains('Show the places tried')").Click();
        page.WaitForAssertion(() => Assert.Equal(["mirror.example.com/hub/nginx (mirror)"],
            page.FindAll("ol[aria-label='Places tried'] li").Select(li => li.TextContent.Trim())));
    }

    [Fact]
    public async Task Json_that_does_not_parse_is_shown_where_it_breaks()
    {
        await SignInAsync("admin", admin: true);
        var page = Render<MirrorsPage>();
        page.WaitForElement("textarea");

        page.Find("textarea").Change("""{"imageDigestMirrors":[{"source":"quay.io","mirrors":["m.example.com"],"mirrorSourcePolicy":"Sometimes"}]}""");
        page.Find("button:contains('Save')").Click();

        page.WaitForAssertion(() => Assert.Contains("$.imageDigestMirrors[0].mirrorSourcePolicy", page.Markup));
    }
}
