using Bunit;
using Dashboard.Components.Pages;
using Dashboard.Domain.Access;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Triggers;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

public sealed class WebhooksPageTests : ConsoleContext
{
    [Fact]
    public async Task An_admin_gets_field_errors_for_a_bad_webhook_and_sees_a_good_one_listed_without_its_secret()
    {
        await SignInAsync("admin", admin: true);
        await Services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, "hooks");
        var page = Render<Webhooks>();
        page.WaitForAssertion(() => Assert.Contains("Save webhook", page.Markup));

        var inputs = page.FindAll("input").Where(i => i.GetAttribute("type") is "text" or "password").ToList();
        inputs[0].Change("ci");
        page.FindAll("input").Where(i => i.GetAttribute("type") is "text" or "password").ToList()[1].Change("not a url");
        page.Find("button:contains('Save webhook')").Click();
        page.WaitForAssertion(() => Assert.Contains("An absolute http(s) URL is required.", page.Markup));
        Assert.Contains("A secret is required", page.Markup);
        Assert.Empty(await Services.GetRequiredService<WebhookService>().ListAsync(Caller.System, "hooks"));

        inputs = page.FindAll("input").Where(i => i.GetAttribute("type") is "text" or "password").ToList();
        inputs[1].Change("https://ci.example.com/hook");
        page.FindAll("input").Where(i => i.GetAttribute("type") is "text" or "password").ToList()[2].Change("a-secret-long-enough");
        page.Find("button:contains('Save webhook')").Click();
        // Listed in the table (the URL field holds the address too until the save completes, so look for the row).
        page.WaitForAssertion(() => Assert.Contains(page.FindAll("td"), td => td.TextContent.Contains("https://ci.example.com/hook")));
        Assert.DoesNotContain("a-secret-long-enough", page.Markup);
    }
}
