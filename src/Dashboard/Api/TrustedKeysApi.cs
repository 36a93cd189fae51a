using System.Security.Claims;
using Dashboard.Domain.Signatures;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

/// <summary>A trusted key as the API reads and writes it; the public key is not a secret and is returned whole.</summary>
public sealed record TrustedKeyRequest(string? PublicKey, string? Description);

public sealed record TrustedKeyDto(string Name, string PublicKey, string? Description, string Algorithm, string Fingerprint, DateTime CreatedAt,
    DateTime UpdatedAt, string UpdatedBy)
{
    public static TrustedKeyDto From(TrustedKey k) => new(k.Name, k.PublicKeyPem, k.Description, k.Algorithm, k.Fingerprint, k.CreatedAt, k.UpdatedAt, k.UpdatedBy);
}

internal static class TrustedKeysApi
{
    /// <summary>The keys cosign signatures are verified with: Admins only, reading and writing.</summary>
    public static void MapTrustedKeysApi(this RouteGroupBuilder api)
    {
        var keys = api.MapGroup("/policy/keys").WithTags("Policy").RequireAuthorization(SignInAndRolesExtensions.AdminPolicy);
        keys.MapGet("/", List);
        keys.MapGet("/{name}", Get);
        keys.MapPut("/{name}", Put).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        keys.MapDelete("/{name}", Delete).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Ok<IReadOnlyList<TrustedKeyDto>>> List(TrustedKeyStore store, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<TrustedKeyDto>>([.. (await store.ListAsync(user.ToCaller(), ct)).Select(TrustedKeyDto.From)]);

    private static async Task<Ok<TrustedKeyDto>> Get(string name, TrustedKeyStore store, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(TrustedKeyDto.From(await store.GetAsync(user.ToCaller(), name, ct)));

    /// <summary>Adds (201) or replaces (200) the key; stored signatures are re-verified in the background.</summary>
    private static async Task<Results<Created<TrustedKeyDto>, Ok<TrustedKeyDto>>> Put(string name, TrustedKeyRequest request, TrustedKeyStore store,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var (key, created) = await store.PutAsync(user.ToCaller(), name, request.PublicKey, request.Description, ct);
        var dto = TrustedKeyDto.From(key);
        return created ? TypedResults.Created($"/api/v1/policy/keys/{key.Name}", dto) : TypedResults.Ok(dto);
    }

    private static async Task<NoContent> Delete(string name, TrustedKeyStore store, ClaimsPrincipal user, CancellationToken ct)
    {
        await store.DeleteAsync(user.ToCaller(), name, ct);
        return TypedResults.NoContent();
    }
}
