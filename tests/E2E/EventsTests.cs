using E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace E2E;

[Collection(DashboardCollection.Name)]
public sealed class EventsTests(DashboardServer server)
{
    [Fact]
    public async Task A_long_change_stays_on_one_line_inside_the_page_with_the_whole_text_on_hover_and_dates_do_not_wrap()
    {
        // A tag re-pointed between two long repository names: its audit entry's change reads "before → after", over 500 characters.
        var repository = "team/" + string.Join('/', Enumerable.Repeat("a-rather-long-path-segment", 9));
        await server.CreateNamespaceAsync("e2e-events");
        await server.CreateImageStreamAsync("e2e-events", "long");
        await server.SetTagAsync("e2e-events", "long", "1", $"quay.io/{repository}/first:1");
        await server.SetTagAsync("e2e-events", "long", "1", $"quay.io/{repository}/second:1");
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("events");
        await page.SignInAsync(DashboardServer.AdminUser, DashboardServer.AdminPassword);
        await page.WaitForInteractiveAsync();
        // The newest entries come first: no filter needed (typing one would reload the grid under the assertions).
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "second:1" });
        await Expect(row).ToHaveCountAsync(1);

        var change = row.GetByTestId("audit-change");
        var summary = await change.GetAttributeAsync("title");
        Assert.Contains($"quay.io/{repository}/first:1", summary);
        Assert.Contains($"quay.io/{repository}/second:1", summary);
        Assert.Equal(1, await LinesAsync(change));
        Assert.True(await change.EvaluateAsync<bool>("e => e.scrollWidth > e.clientWidth"), "the long change is cut with an ellipsis");
        // Nothing runs off the right edge of the page, nor of the table: the change ends inside what is shown.
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the page is wider than the window");
        Assert.True(await change.EvaluateAsync<bool>(
            "e => e.getBoundingClientRect().right <= e.closest('.mud-table-container').getBoundingClientRect().right"),
            "the change column runs past the table's visible edge");
        Assert.Equal(1, await LinesAsync(row.GetByRole(AriaRole.Cell).First));
    }

    /// <summary>How many lines the text of <paramref name="element"/> takes on the screen.</summary>
    private static Task<int> LinesAsync(ILocator element) =>
        element.EvaluateAsync<int>("""
            e => {
                const range = document.createRange();
                range.selectNodeContents(e);
                return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
            }
            """);
}
