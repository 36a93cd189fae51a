using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using Dashboard.Domain.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Dashboard.Security;

/// <summary>The two schemes of <see cref="ApiAuthentication"/>: whether the registry's own short-lived tokens are taken.</summary>
internal sealed class ApiAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>Only the registry scheme (the <c>/v2</c> routes) takes registry tokens; a registry token is refused everywhere else.</summary>
    public bool AcceptRegistryTokens { get; set; }
}

/// <summary>
/// Credentials in the <c>Authorization</c> header: <c>Bearer &lt;personal access token&gt;</c>, or HTTP Basic with
/// <c>username:token</c> or <c>username:password</c> (what registry clients and scripts send). Passwords go through
/// the same throttle as a sign-in in the browser (<see cref="SignInThrottle"/>). Registered twice: as <see cref="SchemeName"/> for
/// the API, and as <see cref="RegistrySchemeName"/> for the registry routes, which alone also take the registry's pull
/// tokens (<see cref="Distribution.RegistryTokens"/>): a pull token opens pulls, nothing else (docs/security.md).
/// </summary>
internal sealed class ApiAuthentication(
    IOptionsMonitor<ApiAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    AccessTokenService tokens, SignInManager<DashboardUser> signIn, Distribution.RegistryTokens registryTokens)
    : AuthenticationHandler<ApiAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "Api";

    public const string RegistrySchemeName = "Registry";

    /// <summary>Names the kind of credential a principal came with, when it was a personal access token.</summary>
    public const string CredentialClaim = "dashboard_credential";

    public const string PersonalAccessToken = "personal-access-token";

    private bool _byAccessToken;

    /// <summary>
    /// Bearer only: a <c>Basic</c> challenge makes a browser ask for a password and then send it with every request to
    /// the site, cross-site form posts included, which would walk around the cookie's forgery check. Scripts send Basic
    /// without being asked; the registry routes answer their own challenges.
    /// </summary>
    public const string Challenge = "Bearer realm=\"dashboard\"";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers.Authorization.Count == 0)
        {
            // A registry client that did not log in (the registry endpoint decides what it may pull); never a cookie session here.
            return AuthenticateResult.NoResult();
        }

        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header) || header.Parameter is null)
        {
            return AuthenticateResult.Fail("The Authorization header is not valid.");
        }

        var registryToken = header.Scheme.Equals("bearer", StringComparison.OrdinalIgnoreCase)
            && !header.Parameter.StartsWith(AccessTokenService.Prefix, StringComparison.Ordinal)
                ? registryTokens.Read(header.Parameter)
                : null;
        if (registryToken is not null && !Options.AcceptRegistryTokens)
        {
            Logger.LogWarning("A registry token was refused outside the registry from {RemoteAddress}", Context.Connection.RemoteIpAddress);
            return AuthenticateResult.Fail("A registry token opens the registry's pulls (/v2/) only; use a personal access token for the API.");
        }

        if (registryToken is { UserId: "" })
        {
            // A token the registry gave a client that did not log in: no user; the registry endpoint decides what it may pull.
            return AuthenticateResult.NoResult();
        }

        IReadOnlyList<string>? scopes = null;
        var (user, problem) = header.Scheme.ToLowerInvariant() switch
        {
            "bearer" when !header.Parameter.StartsWith(AccessTokenService.Prefix, StringComparison.Ordinal) => await FromRegistryTokenAsync(registryToken, s => scopes = s),
            "bearer" => await FromTokenAsync(null, header.Parameter),
            "basic" => await FromBasicAsync(header.Parameter),
            _ => (null, $"Authorization scheme '{header.Scheme}' is not supported: use Bearer or Basic."),
        };
        if (user is null)
        {
            Logger.LogWarning("API authentication failed from {RemoteAddress}: {Reason}", Context.Connection.RemoteIpAddress, problem);
            return AuthenticateResult.Fail(problem ?? "Invalid credentials.");
        }

        var principal = await signIn.CreateUserPrincipalAsync(user);
        if (_byAccessToken)
        {
            ((System.Security.Claims.ClaimsIdentity)principal.Identity!).AddClaim(new System.Security.Claims.Claim(CredentialClaim, PersonalAccessToken));
        }

        if (scopes is not null)
        {
            // A registry token: it may pull only the repositories it names (none: only the catalog and /v2/).
            ((System.Security.Claims.ClaimsIdentity)principal.Identity!).AddClaims(
                scopes.DefaultIfEmpty("").Select(s => new System.Security.Claims.Claim(Distribution.RegistryTokens.ScopeClaim, s)));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = Challenge;
        return Task.CompletedTask;
    }

    private async Task<(DashboardUser?, string?)> FromBasicAsync(string parameter)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
        }
        catch (FormatException)
        {
            return (null, "Basic credentials are not valid base64.");
        }

        var colon = decoded.IndexOf(':');
        if (colon <= 0)
        {
            return (null, "Basic credentials are written username:secret.");
        }

        var userName = decoded[..colon];
        var secret = decoded[(colon + 1)..];
        if (secret.StartsWith(AccessTokenService.Prefix, StringComparison.Ordinal))
        {
            return await FromTokenAsync(userName, secret);
        }

        var user = await signIn.UserManager.FindByNameAsync(userName);
        if (user is null)
        {
            return (null, $"unknown user '{userName}'");
        }

        var result = await signIn.CheckPasswordSignInAsync(user, secret, lockoutOnFailure: true);
        return result.Succeeded ? (user, null) : (null, $"user '{userName}': {DashboardSignInManager.Describe(result)}");
    }

    private async Task<(DashboardUser?, string?)> FromRegistryTokenAsync((string UserId, IReadOnlyList<string> Repositories)? token,
        Action<IReadOnlyList<string>> scopes)
    {
        if (token is not { } read)
        {
            return (null, "unknown or expired registry token");
        }

        var user = await signIn.UserManager.FindByIdAsync(read.UserId);
        if (user is null || !await signIn.CanSignInAsync(user))
        {
            return (null, "the registry token's user is gone or disabled");
        }

        scopes(read.Repositories);
        return (user, null);
    }

    private async Task<(DashboardUser?, string?)> FromTokenAsync(string? userName, string secret)
    {
        var userId = await tokens.AuthenticateAsync(secret, Context.RequestAborted);
        var user = userId is null ? null : await signIn.UserManager.FindByIdAsync(userId);
        if (user is null || (userName is not null && !string.Equals(user.UserName, userName, StringComparison.OrdinalIgnoreCase)))
        {
            return (null, "unknown, expired or revoked access token");
        }

        _byAccessToken = true;

        return await signIn.CanSignInAsync(user) ? (user, null) : (null, $"user '{user.UserName}' is disabled");
    }
}
