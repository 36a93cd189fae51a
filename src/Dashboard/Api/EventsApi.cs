using System.Security.Claims;
using Dashboard.Domain;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Triggers;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

public sealed record EventDto(long Id, DateTime At, string User, string Action, string Kind, string? Namespace, string Target, string Summary);

/// <summary>What happened: the audit trail of changes people made, and the image changes imports found.</summary>
internal static class EventsApi
{
    public static void MapEventsApi(this RouteGroupBuilder api)
    {
        // Signed-in users; admins see everything, others the entries of the namespaces they may read, never global ones.
        api.MapGet("/events", Events).WithTags("Events");
        // Signed-in users; the image changes of the namespaces they may read, newest first.
        api.MapGet("/changes", Changes).WithTags("Events");
    }

    private static async Task<Ok<PageDto<EventDto>>> Events(AuditTrail trail, ClaimsPrincipal user,
        string? @namespace, string? userName, string? kind, int? skip, int? take, CancellationToken ct)
    {
        var page = await trail.QueryAsync(user.ToCaller(), new AuditQuery(@namespace, userName, kind, skip ?? 0, take ?? 50), ct);
        return TypedResults.Ok(new PageDto<EventDto>(
            [.. page.Items.Select(e => new EventDto(e.Id, e.At, e.UserName, e.Action, e.Kind, e.Namespace, e.Target, e.Summary))], page.Total));
    }

    private static async Task<Ok<Page<ChangeEventInfo>>> Changes(ChangeEventQueries queries, ClaimsPrincipal user, string? @namespace, string? stream,
        int? skip, int? take, CancellationToken ct) =>
        TypedResults.Ok(await queries.QueryAsync(user.ToCaller(), new ChangeEventQuery(@namespace, stream, skip ?? 0, take ?? 50), ct));
}
