using Dashboard.Domain.Persistence;
using Dashboard.Domain.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;

namespace Dashboard.Security;

internal static class SignInAndRolesExtensions
{
    public const string AdminPolicy = "Admin";

    /// <summary>
    /// Cookie for people in the browser; <see cref="ApiAuthentication"/> for scripts; its registry scheme, and never the
    /// cookie, for the registry routes under <c>/v2</c> (a page of another site cannot pull or mint tokens with a session).
    /// </summary>
    private const string DefaultScheme = "Dashboard";

    /// <summary>
    /// ASP.NET Core Identity on the dashboard database, with lockout and no self-registration; every endpoint requires
    /// a signed-in user unless it says otherwise (the fallback policy), and admin-only ones say so with <see cref="AdminPolicy"/>.
    /// </summary>
    public static void AddSignInAndRoles(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddAuthentication(DefaultScheme)
            .AddPolicyScheme(DefaultScheme, "Cookie or API credentials", options =>
                options.ForwardDefaultSelector = context =>
                    IsRegistryRequest(context) ? ApiAuthentication.RegistrySchemeName
                    : context.Request.Headers.Authorization.Count > 0 ? ApiAuthentication.SchemeName
                    : IdentityConstants.ApplicationScheme)
            .AddScheme<ApiAuthenticationOptions, ApiAuthentication>(ApiAuthentication.SchemeName, null)
            .AddScheme<ApiAuthenticationOptions, ApiAuthentication>(ApiAuthentication.RegistrySchemeName, o => o.AcceptRegistryTokens = true)
            .AddIdentityCookies();

        services.ConfigureApplicationCookie(options =>
        {
            options.LoginPath = "/account/login";
            options.LogoutPath = "/account/logout";
            options.AccessDeniedPath = "/account/denied";
            options.Cookie.Name = "dashboard.session";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
            options.Events.OnRedirectToLogin = context => RefuseOrRedirect(context, StatusCodes.Status401Unauthorized);
            options.Events.OnRedirectToAccessDenied = context => RefuseOrRedirect(context, StatusCodes.Status403Forbidden);
        });

        // A disabled user's cookie is checked against the security stamp every minute, and refused once it changed.
        services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = TimeSpan.FromMinutes(1));

        services.AddIdentityCore<DashboardUser>(options =>
            {
                options.User.RequireUniqueEmail = false;
                options.Password.RequiredLength = 12;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                options.SignIn.RequireConfirmedAccount = false;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<DashboardDbContext>()
            .AddSignInManager<DashboardSignInManager>()
            .AddDefaultTokenProviders();

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(AdminPolicy, policy => policy.RequireAuthenticatedUser().RequireRole(DashboardUser.AdminRole));

        services.AddSingleton<SignInThrottle>();
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingIdentityStateProvider>();
    }

    /// <summary>A request for the registry endpoint: under <c>/v2</c>, on its own port when it has one (elsewhere <c>/v2</c> is no registry).</summary>
    private static bool IsRegistryRequest(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/v2"))
        {
            return false;
        }

        var port = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Dashboard.Domain.Proxy.ProxyOptions>>().Value.Port;
        return port == 0 || context.Connection.LocalPort == port;
    }

    /// <summary>API, OpenAPI and Hangfire clients get a status code; people in the browser get the sign-in page.</summary>
    private static Task RefuseOrRedirect(RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> context, int status)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/api") || path.StartsWithSegments("/openapi") || path.StartsWithSegments("/hangfire")
            || path.StartsWithSegments("/_blazor"))
        {
            context.Response.StatusCode = status;
            if (status == StatusCodes.Status401Unauthorized)
            {
                context.Response.Headers.WWWAuthenticate = ApiAuthentication.Challenge;
            }

            return Task.CompletedTask;
        }

        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
