using Dashboard.Domain.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Dashboard.Security;

/// <summary>
/// Identity's sign-in manager, plus: a disabled user cannot sign in, every failure is logged, and failed passwords are
/// throttled per client address and locked per user and address (<see cref="SignInThrottle"/>) instead of Identity's
/// lockout of the whole account.
/// </summary>
internal sealed class DashboardSignInManager(
    UserManager<DashboardUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<DashboardUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<DashboardSignInManager> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<DashboardUser> confirmation,
    SignInThrottle throttle)
    : SignInManager<DashboardUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    public override async Task<bool> CanSignInAsync(DashboardUser user) => !user.Disabled && await base.CanSignInAsync(user);

    public override async Task<SignInResult> CheckPasswordSignInAsync(DashboardUser user, string password, bool lockoutOnFailure)
    {
        var address = Context.Connection.RemoteIpAddress;
        if (throttle.Refusal(user.Id, address) is { } refusal)
        {
            // No password hash for a refused attempt: failing in bulk costs the attacker, not us.
            Logger.LogWarning("Sign-in of user {UserName} from {RemoteAddress} not checked: {Reason}", user.UserName, address, refusal);
            return SignInResult.LockedOut;
        }

        // Identity's own lockout would lock the account for every address; the throttle locks this address only.
        var result = await base.CheckPasswordSignInAsync(user, password, lockoutOnFailure: false);
        if (result.Succeeded)
        {
            throttle.Succeeded(user.Id, address);
        }
        else
        {
            if (!result.IsNotAllowed && !result.IsLockedOut)
            {
                throttle.Failed(user.Id, address);
            }

            Logger.LogWarning("Sign-in failed for user {UserName} from {RemoteAddress}: {Reason}", user.UserName, address, Describe(result));
        }

        return result;
    }

    public static string Describe(SignInResult result) =>
        result.IsLockedOut ? "locked out" : result.IsNotAllowed ? "not allowed (disabled)" : "wrong password";
}
