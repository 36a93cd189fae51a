using System.Security.Claims;
using Dashboard.Domain.Access;
using Dashboard.Domain.Users;

namespace Dashboard.Security;

internal static class CallerExtensions
{
    /// <summary>The domain's view of the signed-in user.</summary>
    public static Caller ToCaller(this ClaimsPrincipal user) =>
        new(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("The user is not signed in."),
            user.Identity?.Name ?? "",
            user.IsInRole(DashboardUser.AdminRole));
}
