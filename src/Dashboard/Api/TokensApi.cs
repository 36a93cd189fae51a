using System.Security.Claims;
using Dashboard.Domain.Users;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

public sealed record TokenRequest(string? Name, DateTime? ExpiresAt);

public sealed record NewTokenDto(Guid Id, string Name, string Token, DateTime? ExpiresAt);

public sealed record TokenDto(Guid Id, string Name, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? LastUsedAt);

/// <summary>Personal access tokens: what scripts and registry clients sign in with.</summary>
internal static class TokensApi
{
    /// <summary>A signed-in user's own access tokens.</summary>
    public static void MapTokensApi(this RouteGroupBuilder api)
    {
        var tokens = api.MapGroup("/tokens").WithTags("Access tokens");
        tokens.MapPost("/", CreateToken).ProducesValidationProblem().ProducesProblem(409);
        tokens.MapGet("/", ListTokens);
        tokens.MapDelete("/{id:guid}", RevokeToken);
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
}
