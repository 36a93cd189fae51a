using System.Text.RegularExpressions;
using E2E.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace E2E;

[Collection(DashboardCollection.Name)]
public sealed class SignInTests(DashboardServer server)
{
    [Fact]
    public async Task Wrong_password_shows_an_error_and_stays_on_the_sign_in_page()
    {
        // A user of its own, so the failed attempt counts towards nobody else's lockout.
        await server.CreateUserAsync("e2e-mistyped");
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("account/login");

        await page.SignInAsync("e2e-mistyped", "Not-the-passw0rd!");

        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Wrong user name or password.");
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"));
        await Expect(page.Heading("Sign in")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("signed-in-user")).ToHaveCountAsync(0);
    }
}
