using System.Security.Claims;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Users;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

public sealed record UserRequest(string? UserName, string? Password, bool Admin = false);

public sealed record UserChangeRequest(string? Password, bool? Admin, bool? Disabled);

public sealed record UserDto(string UserName, bool Admin, bool Disabled, bool LockedOut, DateTime CreatedAt, IReadOnlyList<MemberOfDto> Memberships);

public sealed record MemberOfDto(string Namespace, NamespaceRole Role);

internal static class UsersApi
{
    /// <summary>Users and their global rights: admins only.</summary>
    public static void MapUsersApi(this RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users").RequireAuthorization(SignInAndRolesExtensions.AdminPolicy);
        users.MapGet("/", ListUsers);
        users.MapPost("/", CreateUser).ProducesValidationProblem().ProducesProblem(409);
        users.MapPut("/{userName}", UpdateUser).ProducesValidationProblem();
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
