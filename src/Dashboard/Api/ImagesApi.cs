using System.Security.Claims;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Images;
using Dashboard.Domain;
using Dashboard.Domain.Scheduling;
using Dashboard.Domain.Triggers;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

internal static class ImagesApi
{
    public static void MapImagesApi(this RouteGroupBuilder api)
    {
        var images = api.MapGroup("/images").WithTags("Images");
        images.MapGet("/{digest}", Get).ProducesValidationProblem();
        images.MapPut("/{digest}/annotations", SetAnnotations).RequireAuthorization(SignInAndRolesExtensions.AdminPolicy).ProducesValidationProblem();
    }

    public static void MapEventsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/events", Events).WithTags("Events");
        // Signed-in users; the image changes of the namespaces they may read, newest first.
        api.MapGet("/changes", Changes).WithTags("Events");
        // Signed-in users; the rows are those of the namespaces they may read.
        api.MapGet("/schedules", Schedules).WithTags("Schedules");
    }

    private static async Task<Ok<Page<ChangeEventInfo>>> Changes(ChangeEventQueries queries, ClaimsPrincipal user, string? @namespace, string? stream,
        int? skip, int? take, CancellationToken ct) =>
        TypedResults.Ok(await queries.QueryAsync(user.ToCaller(), new ChangeEventQuery(@namespace, stream, skip ?? 0, take ?? 50), ct));

    private static async Task<Ok<ScheduleOverview>> Schedules(ScheduleQueries queries, ClaimsPrincipal user, string? search, bool? failingOnly,
        int? skip, int? take, CancellationToken ct) =>
        TypedResults.Ok(await queries.QueryAsync(user.ToCaller(), new ScheduleQuery(search, failingOnly ?? false, skip ?? 0, take ?? 50), ct));

    private static async Task<Ok<ImageDto>> Get(string digest, ImageCatalog catalog, ClaimsPrincipal user, CancellationToken ct)
    {
        var details = await catalog.GetAsync(user.ToCaller(), digest, ct);
        return TypedResults.Ok(ImageDto.From(details.Image, details.UsedBy));
    }

    private static async Task<Ok<ImageDto>> SetAnnotations(string digest, Dictionary<string, string> annotations, ImageCatalog catalog,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var caller = user.ToCaller();
        await catalog.SetAnnotationsAsync(caller, digest, annotations, ct);
        var details = await catalog.GetAsync(caller, digest, ct);
        return TypedResults.Ok(ImageDto.From(details.Image, details.UsedBy));
    }

    private static async Task<Ok<PageDto<EventDto>>> Events(AuditTrail trail, ClaimsPrincipal user,
        string? @namespace, string? userName, string? kind, int? skip, int? take, CancellationToken ct)
    {
        var page = await trail.QueryAsync(user.ToCaller(), new AuditQuery(@namespace, userName, kind, skip ?? 0, take ?? 50), ct);
        return TypedResults.Ok(new PageDto<EventDto>(
            [.. page.Items.Select(e => new EventDto(e.Id, e.At, e.UserName, e.Action, e.Kind, e.Namespace, e.Target, e.Summary))], page.Total));
    }
}
