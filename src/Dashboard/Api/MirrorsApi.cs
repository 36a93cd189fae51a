using System.Security.Claims;
using Dashboard.Domain.Registry.Mirrors;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

internal static class MirrorsApi
{
    /// <summary>
    /// Admins only: the registry mirrors with OpenShift's field names (<c>imageDigestMirrors</c>, <c>imageTagMirrors</c>,
    /// <c>insecureRegistries</c>). A PUT replaces the whole document or, when an entry is bad, nothing (400 naming it).
    /// </summary>
    public static void MapMirrorsApi(this RouteGroupBuilder api)
    {
        var mirrors = api.MapGroup("/mirrors").WithTags("Mirrors").RequireAuthorization(SignInAndRolesExtensions.AdminPolicy);
        mirrors.MapGet("", Get);
        mirrors.MapPut("", Put).ProducesValidationProblem();
    }

    private static async Task<Ok<MirrorConfiguration>> Get(MirrorStore store, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(await store.GetAsync(user.ToCaller(), ct));

    private static async Task<Ok<MirrorConfiguration>> Put(MirrorConfiguration? document, MirrorStore store, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(await store.PutAsync(user.ToCaller(), document, ct));
}
