using System.Security.Claims;
using Dashboard.Domain.Scheduling;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

/// <summary>The scheduler's settings in camelCase, as in appsettings.json's <c>Dashboard:Import</c>.</summary>
/// <remarks>Fields left out of a PUT keep the values in force.</remarks>
public sealed record ImportSettingsDto(int? DefaultIntervalSeconds, int? MinimumIntervalSeconds, int? MaxImportsPerMinute, bool? Disabled, int? TickSeconds,
    int? RegistryConcurrency = null, double? RegistryRequestsPerSecond = null, IReadOnlyList<RegistryOverride>? RegistryOverrides = null)
{
    public static ImportSettingsDto From(ScheduleOptions o) => new(o.DefaultIntervalSeconds, o.MinimumIntervalSeconds, o.MaxImportsPerMinute, o.Disabled,
        o.TickSeconds, o.RegistryConcurrency, o.RegistryRequestsPerSecond, o.RegistryOverrides);

    public ScheduleOptions ToOptions(ScheduleOptions current) => new()
    {
        DefaultIntervalSeconds = DefaultIntervalSeconds ?? current.DefaultIntervalSeconds,
        MinimumIntervalSeconds = MinimumIntervalSeconds ?? current.MinimumIntervalSeconds,
        MaxImportsPerMinute = MaxImportsPerMinute ?? current.MaxImportsPerMinute,
        Disabled = Disabled ?? current.Disabled,
        TickSeconds = TickSeconds ?? current.TickSeconds,
        RegistryConcurrency = RegistryConcurrency ?? current.RegistryConcurrency,
        RegistryRequestsPerSecond = RegistryRequestsPerSecond ?? current.RegistryRequestsPerSecond,
        RegistryOverrides = RegistryOverrides is null ? current.RegistryOverrides : [.. RegistryOverrides],
    };
}

internal static class SettingsApi
{
    /// <summary>Admins only: the settings in force, and their run-time change (stored in the database, applied at once).</summary>
    public static void MapSettingsApi(this RouteGroupBuilder api)
    {
        var settings = api.MapGroup("/settings").WithTags("Settings").RequireAuthorization(SignInAndRolesExtensions.AdminPolicy);
        settings.MapGet("/import", Get);
        settings.MapPut("/import", Put).ProducesValidationProblem();
    }

    private static async Task<Ok<ImportSettingsDto>> Get(ScheduleSettings settings, CancellationToken ct)
    {
        await settings.RefreshAsync(ct);
        return TypedResults.Ok(ImportSettingsDto.From(settings.Current));
    }

    private static async Task<Ok<ImportSettingsDto>> Put(ImportSettingsDto request, ScheduleSettings settings, ClaimsPrincipal user, CancellationToken ct)
    {
        await settings.RefreshAsync(ct);
        return TypedResults.Ok(ImportSettingsDto.From(await settings.UpdateAsync(user.ToCaller(), request.ToOptions(settings.Edit()), ct)));
    }
}
