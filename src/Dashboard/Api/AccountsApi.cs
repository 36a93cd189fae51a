using System.Security.Claims;
using Dashboard.Domain.Users;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

internal static class AccountsApi
{
    /// <summary>A signed-in user's own access tokens.</summary>
    public static void MapTokensApi(this RouteGroupBuilder api)
    {
        var tokens = api.MapGroup("/tokens").WithTags("Access tokens");
        tokens.MapPost("/", CreateToken).ProducesValidationProblem().ProducesProblem(409);
        tokens.MapGet("/", ListTokens);
        tokens.MapDelete("/{id:guid}", RevokeToken);
    }

    /// <summary>Users and their global rights: admins only.</summary>
    public static void MapUsersApi(this RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users").RequireAuthorization(SignInAndRolesExtensions.AdminPolicy);
        users.MapGet("/", ListUsers);
        users.MapPost("/", CreateUser).ProducesValidationProblem().ProducesProblem(409);
        users.MapPut("/{userName}", UpdateUser).ProducesValidationProblem();
    }

    /// <summary>
    /// A new token is made with a password or the console's session, never with a token: a leaked short-lived token
    /// cannot make itself a permanent one that outlives its revocation.
    /// </summary>
    private static async Task<Created<NewTokenDto>> CreateToken(TokenRequest request, AccessTokenService tokens, ClaimsPrincipal user, CancellationToken ct)
    {
        if (user.HasClaim(ApiAuthentication.CredentialClaim, ApiAuthentication.PersonalAccessToken))
        {
            throw new Dashboard.Domain.ForbiddenException(
                "A personal access token cannot create tokens: sign in with your password (Basic) or use the Access tokens page.");
        }

        var created = await tokens.CreateAsync(user.ToCaller(), request.Name, request.ExpiresAt, ct);
        return TypedResults.Created($"/api/v1/tokens/{created.Id}", new NewTokenDto(created.Id, created.Name, created.Token, created.ExpiresAt));
    }

    private static async Task<Ok<IEnumerable<TokenDto>>> ListTokens(AccessTokenService tokens, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok((await tokens.ListAsync(user.ToCaller(), ct)).Select(t => new TokenDto(t.Id, t.Name, t.CreatedAt, t.ExpiresAt, t.LastUsedAt)));

    private static async Task<NoContent> RevokeToken(Guid id, AccessTokenService tokens, ClaimsPrincipal user, CancellationToken ct)
    {
        await tokens.RevokeAsync(user.ToCaller(), id, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<IEnumerable<UserDto>>> ListUsers(UserAdministration users, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok((await users.ListAsync(user.ToCaller(), ct)).Select(ToDto));

    private static async Task<Created<UserDto>> CreateUser(UserRequest request, UserAdministration users, ClaimsPrincipal user, CancellationToken ct)
    {
        var caller = user.ToCaller();
        await users.CreateAsync(caller, request.UserName, request.Password, request.Admin, ct);
        var created = (await users.ListAsync(caller, ct)).First(u => string.Equals(u.UserName, request.UserName?.Trim(), StringComparison.OrdinalIgnoreCase));
        return TypedResults.Created($"/api/v1/users/{created.UserName}", ToDto(created));
    }

    private static async Task<Ok<UserDto>> UpdateUser(string userName, UserChangeRequest request, UserAdministration users, ClaimsPrincipal user, CancellationToken ct)
    {
        var caller = user.ToCaller();
        await users.UpdateAsync(caller, userName, new UserChange(request.Password, request.Admin, request.Disabled), ct);
        return TypedResults.Ok(ToDto((await users.ListAsync(caller, ct)).First(u => string.Equals(u.UserName, userName, StringComparison.OrdinalIgnoreCase))));
    }

    private static UserDto ToDto(UserRow u) =>
        new(u.UserName, u.IsAdmin, u.Disabled, u.LockedOut, u.CreatedAt, [.. u.Memberships.Select(m => new MemberOfDto(m.Namespace, m.Role))]);
}
