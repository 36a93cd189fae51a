using Bunit;
using Dashboard.Components.Policy;
using Dashboard.Domain.Policy;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

public sealed class TryItPanelTests : ConsoleContext
{
    [Fact]
    public async Task Several_documents_are_shown_object_by_object_with_the_refusal_next_to_the_object()
    {
        var admin = await SignInAsync("admin", admin: true);
        await Services.GetRequiredService<PolicyStore>().PutRulesAsync(admin, [new PolicyRule { Name = "no-latest", Tags = ["latest"] }]);
        var panel = Render<TryItPanel>();

        panel.Find("textarea").Change("""
            kind: Deployment
            metadata: {name: web}
            spec: {template: {spec: {containers: [{name: app, image: "nginx:1.27"}]}}}
            ---
            kind: CronJob
            metadata: {name: cleanup}
            spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: cleanup, image: busybox}]}}}}}
            ---
            kind: Service
            metadata: {name: web}
            """);
        panel.Find("button:contains('Evaluate')").Click();

        panel.WaitForAssertion(() => Assert.Contains("Refused: 1 of 3 objects", panel.Markup));
        var rows = panel.FindAll("[aria-label='Objects'] tbody tr");
        Assert.Equal(["Deployment web", "CronJob cleanup", "Service web"], rows.Select(r => r.Children[0].TextContent.Trim()));
        Assert.Equal(["Allowed", "Refused", "No images"], rows.Select(r => r.Children[2].TextContent.Trim()));
        Assert.Contains("container cleanup: image docker.io/library/busybox:latest is refused by rule 'no-latest'", rows[1].Children[3].TextContent);
        Assert.Equal("", rows[0].Children[3].TextContent.Trim());
    }
}
