using Dashboard.Domain.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Antiforgery;

namespace Dashboard.Security;

internal static class AccountEndpoints
{
    /// <summary>
    /// <c>POST /account/logout</c>: a form post whose antiforgery token is required, so another site cannot sign a
    /// user out. Signed-in users only.
    /// </summary>
    public static void MapAccountEndpoints(this WebApplication app) =>
        app.MapPost("/account/logout", async (SignInManager<DashboardUser> signIn, ILogger<SignInManager<DashboardUser>> logger, HttpContext context) =>
            {
                logger.LogInformation("User {UserName} signed out", context.User.Identity?.Name);
                await signIn.SignOutAsync();
                return TypedResults.LocalRedirect("/account/login?signedOut=true");
            })
            .RequireAuthorization()
            .WithMetadata(new RequireAntiforgeryTokenAttribute())
            .ExcludeFromDescription();
}
