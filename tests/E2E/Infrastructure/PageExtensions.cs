using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace E2E.Infrastructure;

public static class PageExtensions
{
    /// <summary>Fills and posts the sign-in form (a static server-rendered form: it needs no circuit).</summary>
    public static async Task SignInAsync(this IPage page, string userName, string password)
    {
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    /// <summary>
    /// Waits until the Blazor circuit has taken over the prerendered page: a click on prerendered markup before that is
    /// lost. The main layout sets the marker only when it renders interactively.
    /// </summary>
    public static Task WaitForInteractiveAsync(this IPage page) =>
        Expect(page.Locator("[data-interactive=true]")).ToBeAttachedAsync();

    /// <summary>
    /// Checks that a confirmation note (a snackbar) says <paramref name="text"/> and closes it, as a user would: the notes
    /// stay at the top right for seconds, over the pages' primary buttons, and a click there would wait for them.
    /// </summary>
    public static async Task DismissNoteAsync(this IPage page, string text)
    {
        var note = page.GetByRole(AriaRole.Alert).Filter(new() { HasText = text });
        await Expect(note).ToBeVisibleAsync();
        await note.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
        await Expect(note).ToHaveCountAsync(0);
    }

    public static ILocator Button(this IPage page, string name) =>
        page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

    public static ILocator Link(this IPage page, string name) =>
        page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    /// <summary>An entry of the side navigation (the breadcrumbs have links of the same names).</summary>
    public static ILocator NavLink(this IPage page, string name) =>
        page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    public static ILocator Heading(this IPage page, string name) =>
        page.GetByRole(AriaRole.Heading, new() { Name = name, Exact = true });
}
