using System.Security.Claims;
using Dashboard.Domain.PullSecrets;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

/// <summary>Either a whole document or one login; the answer never carries a password, token or <c>auth</c>.</summary>
public sealed record PullSecretRequest(string? DockerConfigJson, string? Registry, string? Username, string? Password);

public sealed record PullSecretDto(string Name, IReadOnlyList<PullSecretEntryDto> Entries, DateTime CreatedAt, DateTime? LastUsedAt, string? LastResult);

public sealed record PullSecretEntryDto(string Registry, string Username);

public sealed record CredentialTestRequest(string? Image, bool Insecure = false);

public sealed record CredentialTestDto(string Secret, string Registry, string Username, bool Accepted, string Message, bool UsedByImports);

internal static class PullSecretsApi
{
    /// <summary>Namespace members read secrets' names and users; Editors write them (the domain checks the role).</summary>
    public static void MapPullSecretsApi(this RouteGroupBuilder api)
    {
        var secrets = api.MapGroup("/namespaces/{ns}/pullsecrets").WithTags("Pull secrets");
        secrets.MapGet("/", List);
        secrets.MapGet("/{name}", Get);
        secrets.MapPut("/{name}", Put).ProducesValidationProblem();
        secrets.MapDelete("/{name}", Delete);
        secrets.MapPost("/test", Test).ProducesValidationProblem();
    }

    private static async Task<Ok<IEnumerable<PullSecretDto>>> List(string ns, PullSecretService service, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok((await service.ListAsync(user.ToCaller(), ns, ct)).Select(ToDto));

    private static async Task<Ok<PullSecretDto>> Get(string ns, string name, PullSecretService service, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(ToDto(await service.GetAsync(user.ToCaller(), ns, name, ct)));

    private static async Task<Ok<PullSecretDto>> Put(string ns, string name, PullSecretRequest request, PullSecretService service, ClaimsPrincipal user, CancellationToken ct)
    {
        var caller = user.ToCaller();
        var secret = request.DockerConfigJson is not null
            ? await service.PutAsync(caller, ns, name, request.DockerConfigJson, ct)
            : await service.PutLoginAsync(caller, ns, name, request.Registry, request.Username, request.Password, ct);
        return TypedResults.Ok(ToDto(secret));
    }

    private static async Task<NoContent> Delete(string ns, string name, PullSecretService service, ClaimsPrincipal user, CancellationToken ct)
    {
        await service.DeleteAsync(user.ToCaller(), ns, name, ct);
        return TypedResults.NoContent();
    }

    /// <summary>Which secret and entry match an image, and whether its registry accepts them. Editors of the namespace.</summary>
    private static async Task<Ok<IEnumerable<CredentialTestDto>>> Test(string ns, CredentialTestRequest request, PullSecretService service,
        ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok((await service.TestAsync(user.ToCaller(), ns, request.Image, request.Insecure, ct))
            .Select(t => new CredentialTestDto(t.Secret, t.Registry, t.Username, t.Accepted, t.Message, t.UsedByImports)));

    private static PullSecretDto ToDto(PullSecretInfo s) =>
        new(s.Name, [.. s.Entries.Select(e => new PullSecretEntryDto(e.Registry, e.Username))], s.CreatedAt, s.LastUsedAt, s.LastResult);
}
