using System.Security.Claims;
using Dashboard.Domain.Namespaces;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

public sealed record NamespaceRequest(string? Name);

/// <param name="AnonymousPull">Whether registry clients may pull this namespace's images through the dashboard without logging in.</param>
/// <param name="Shared">Whether this namespace's streams resolve image references for every namespace (admission pins, policy facts).</param>
public sealed record NamespaceDto(string Name, DateTime CreatedAt, int ImageStreams, NamespaceRole? Role, bool AnonymousPull, bool Shared);

public sealed record AnonymousPullRequest(bool? Allowed);

public sealed record SharedRequest(bool? Shared);

public sealed record MemberRequest(NamespaceRole? Role);

public sealed record MemberDto(string UserName, NamespaceRole Role);

internal static class NamespacesApi
{
    public static void MapNamespacesApi(this RouteGroupBuilder api)
    {
        var namespaces = api.MapGroup("/namespaces").WithTags("Namespaces");
        namespaces.MapGet("/", List);
        namespaces.MapPost("/", Create).RequireAuthorization(SignInAndRolesExtensions.AdminPolicy).ProducesValidationProblem().ProducesProblem(409);
        namespaces.MapGet("/{ns}", Get);
        namespaces.MapDelete("/{ns}", Delete).RequireAuthorization(SignInAndRolesExtensions.AdminPolicy);
        namespaces.MapPut("/{ns}/anonymous-pull", SetAnonymousPull).RequireAuthorization(SignInAndRolesExtensions.AdminPolicy).ProducesValidationProblem();
        namespaces.MapPut("/{ns}/shared", SetShared).RequireAuthorization(SignInAndRolesExtensions.AdminPolicy).ProducesValidationProblem();
        namespaces.MapGet("/{ns}/members", Members);
        namespaces.MapPut("/{ns}/members/{userName}", SetMember).RequireAuthorization(SignInAndRolesExtensions.AdminPolicy).ProducesValidationProblem();
        namespaces.MapDelete("/{ns}/members/{userName}", RemoveMember).RequireAuthorization(SignInAndRolesExtensions.AdminPolicy);
    }

    private static async Task<Ok<IEnumerable<NamespaceDto>>> List(NamespaceService service, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok((await service.ListAsync(user.ToCaller(), ct)).Select(ToDto));

    private static async Task<Created<NamespaceDto>> Create(NamespaceRequest request, NamespaceService service, ClaimsPrincipal user, CancellationToken ct)
    {
        var created = await service.CreateAsync(user.ToCaller(), request.Name, ct);
        return TypedResults.Created($"/api/v1/namespaces/{created.Name}", ToDto(created));
    }

    private static async Task<Ok<NamespaceDto>> Get(string ns, NamespaceService service, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(ToDto(await service.GetAsync(user.ToCaller(), ns, ct)));

    private static async Task<Results<Ok<NamespaceDto>, ValidationProblem>> SetAnonymousPull(
        string ns, AnonymousPullRequest request, NamespaceService service, ClaimsPrincipal user, CancellationToken ct)
    {
        if (request.Allowed is not { } allowed)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["allowed"] = ["Say true or false: whether pulls without a login are allowed."] });
        }

        return TypedResults.Ok(ToDto(await service.SetAnonymousPullAsync(user.ToCaller(), ns, allowed, ct)));
    }

    private static async Task<Results<Ok<NamespaceDto>, ValidationProblem>> SetShared(
        string ns, SharedRequest request, NamespaceService service, ClaimsPrincipal user, CancellationToken ct)
    {
        if (request.Shared is not { } shared)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["shared"] = ["Say true or false: whether this namespace's streams resolve images for every namespace."],
            });
        }

        return TypedResults.Ok(ToDto(await service.SetSharedAsync(user.ToCaller(), ns, shared, ct)));
    }

    private static async Task<NoContent> Delete(string ns, NamespaceService service, ClaimsPrincipal user, CancellationToken ct)
    {
        await service.DeleteAsync(user.ToCaller(), ns, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<IEnumerable<MemberDto>>> Members(string ns, NamespaceService service, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok((await service.MembersAsync(user.ToCaller(), ns, ct)).Select(m => new MemberDto(m.UserName, m.Role)));

    private static async Task<Results<Ok<MemberDto>, ValidationProblem>> SetMember(
        string ns, string userName, MemberRequest request, NamespaceService service, ClaimsPrincipal user, CancellationToken ct)
    {
        if (request.Role is not { } role)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["role"] = ["A role is required: Viewer or Editor."] });
        }

        await service.SetMemberAsync(user.ToCaller(), ns, userName, role, ct);
        return TypedResults.Ok(new MemberDto(userName, role));
    }

    private static async Task<NoContent> RemoveMember(string ns, string userName, NamespaceService service, ClaimsPrincipal user, CancellationToken ct)
    {
        await service.RemoveMemberAsync(user.ToCaller(), ns, userName, ct);
        return TypedResults.NoContent();
    }

    private static NamespaceDto ToDto(NamespaceSummary n) => new(n.Name, n.CreatedAt, n.ImageStreams, n.Role, n.AnonymousPull, n.Shared);
}
