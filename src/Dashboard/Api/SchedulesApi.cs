using System.Security.Claims;
using Dashboard.Domain.Scheduling;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

/// <summary>The scheduled checks: when each tag is checked next and how the last check went.</summary>
internal static class SchedulesApi
{
    /// <summary>Signed-in users; the rows are those of the namespaces they may read.</summary>
    public static void MapSchedulesApi(this RouteGroupBuilder api) =>
        api.MapGet("/schedules", Schedules).WithTags("Schedules");

    private static async Task<Ok<ScheduleOverview>> Schedules(ScheduleQueries queries, ClaimsPrincipal user, string? search, bool? failingOnly,
        int? skip, int? take, CancellationToken ct) =>
        TypedResults.Ok(await queries.QueryAsync(user.ToCaller(), new ScheduleQuery(search, failingOnly ?? false, skip ?? 0, take ?? 50), ct));
}
