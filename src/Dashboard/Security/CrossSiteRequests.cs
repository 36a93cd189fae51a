using Microsoft.AspNetCore.Antiforgery;

namespace Dashboard.Security;

/// <summary>
/// A change asked with the browser's session cookie (no <c>Authorization</c> header) must prove it comes from the
/// dashboard's own pages: an antiforgery token, or the <c>X-Requested-With</c> header, which a form or page of another
/// site cannot send without a CORS preflight this app never grants. <c>SameSite=Strict</c> alone is not a boundary (a
/// sibling subdomain is same-site), and ASP.NET Core's own antiforgery check reads form posts only, so a cross-site
/// <c>text/plain</c> post or one without a body would pass it. Scripts with Basic, a personal access token or Bearer are
/// not affected. Blazor's circuit and Hangfire's dashboard guard their own posts.
/// </summary>
internal static class CrossSiteRequests
{
    public const string Header = "X-Requested-With";

    public static void UseCrossSiteRequestChecks(this WebApplication app) =>
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            if ((request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/account/logout"))
                && !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
                && request.Headers.Authorization.Count == 0 && context.User.Identity?.IsAuthenticated == true
                && request.Headers[Header].Count == 0 && !await HasAntiforgeryTokenAsync(context))
            {
                await Results.Problem(
                        $"A change made with a session cookie needs an antiforgery token or the {Header} header; scripts use a personal access token.",
                        statusCode: StatusCodes.Status400BadRequest, title: "Cross-site request refused")
                    .ExecuteAsync(context);
                return;
            }

            await next(context);
        });

    /// <summary>The antiforgery middleware's verdict when it already checked this endpoint (then the form must not be read again), else our own check.</summary>
    private static async Task<bool> HasAntiforgeryTokenAsync(HttpContext context) =>
        context.Features.Get<IAntiforgeryValidationFeature>() is { } checkedAlready
            ? checkedAlready.IsValid
            : await context.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(context);
}
