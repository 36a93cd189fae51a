using Dashboard.Components;
using MudBlazor.Services;

namespace Dashboard.Hosting;

internal static class ConsoleExtensions
{
    /// <summary>The Blazor Server console with MudBlazor, plus the plumbing every request needs.</summary>
    public static void AddConsole(this WebApplicationBuilder builder)
    {
        // Serves MudBlazor's and the app's assets from the build output too, not only from a published folder
        // (by default ASP.NET Core does that only in Development); a published app has no manifest and skips it.
        builder.WebHost.UseStaticWebAssets();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddCircuitSettings();
        // Notes appear at the bottom right, where they do not cover the pages' action buttons at the top.
        builder.Services.AddMudServices(options => options.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight);
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddErrorHandling();
        builder.Services.AddHealth();
    }

    /// <summary>Pages require a signed-in user (the fallback policy, and each page's own attribute); static assets are public.</summary>
    public static void MapConsole(this WebApplication app)
    {
        app.MapStaticAssets().AllowAnonymous();
        // Every page also carries its own [Authorize] or [AllowAnonymous]; this covers Blazor's own endpoints too.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode().RequireAuthorization();
    }
}
