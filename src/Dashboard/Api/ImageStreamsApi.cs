using System.Security.Claims;
using Dashboard.Domain;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

// JSON shapes follow OpenShift's image API (image/v1), so its users recognise them.

public sealed record ImageStreamRequest(string? Name, Dictionary<string, string>? Labels, Dictionary<string, string>? Annotations);

public sealed record ImageStreamSummaryDto(string Namespace, string Name, int Tags, DateTime CreatedAt, DateTime? LastChange);

public sealed record ObjectReferenceDto(TagSourceKind Kind, string? Name, string? Namespace = null);

public sealed record SpecTagDto(string Name, ObjectReferenceDto From, bool Scheduled, bool Insecure, ImportMode ImportMode,
    ReferencePolicy ReferencePolicy, long Generation, IReadOnlyDictionary<string, string> Annotations, int? IntervalSeconds);

public sealed record TagEventDto(DateTime Created, string DockerImageReference, string Image, long Generation);

public sealed record TagConditionDto(string Type, string Status, string Reason, string Message, DateTime LastTransitionTime, long Generation);

public sealed record StatusTagDto(string Tag, IReadOnlyList<TagEventDto> Items, IReadOnlyList<TagConditionDto> Conditions);

public sealed record ImageStreamSpecDto(IReadOnlyList<SpecTagDto> Tags);

public sealed record ImageStreamStatusDto(IReadOnlyList<StatusTagDto> Tags);

public sealed record ImageStreamDto(string Namespace, string Name, IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations, DateTime CreatedAt, long Generation, ImageStreamSpecDto Spec, ImageStreamStatusDto Status)
{
    public static ImageStreamDto From(ImageStream s) => new(
        s.Namespace.Name, s.Name, s.Labels, s.Annotations, s.CreatedAt, s.Generation,
        new ImageStreamSpecDto([.. s.SpecTags.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => new SpecTagDto(
            t.Name, new ObjectReferenceDto(t.FromKind, t.FromName, t.FromNamespace), t.Scheduled, t.Insecure, t.ImportMode, t.ReferencePolicy, t.Generation,
            t.Annotations, t.IntervalSeconds))]),
        new ImageStreamStatusDto([.. s.TagNames()
            .Where(tag => s.History.Any(e => e.Tag == tag) || s.Conditions.Any(c => c.Tag == tag))
            .Select(tag => new StatusTagDto(tag,
                [.. s.HistoryOf(tag).Select(e => new TagEventDto(e.Created, e.DockerImageReference, e.Image, e.Generation))],
                [.. s.Conditions.Where(c => c.Tag == tag).Select(c => new TagConditionDto(c.Type, c.Status, c.Reason, c.Message, c.LastTransitionTime, c.Generation))]))]));
}

internal static class ImageStreamsApi
{
    public static void MapImageStreamsApi(this RouteGroupBuilder api)
    {
        var streams = api.MapGroup("/namespaces/{ns}/imagestreams").WithTags("Image streams");
        streams.MapGet("/", List);
        streams.MapPost("/", Create).ProducesValidationProblem().ProducesProblem(409);
        streams.MapGet("/{name}", Get);
        streams.MapDelete("/{name}", Delete);
    }

    private static async Task<Ok<PageDto<ImageStreamSummaryDto>>> List(string ns, ImageStreamService service, NamespaceService namespaces,
        ClaimsPrincipal user, string? search, int? skip, int? take, CancellationToken ct)
    {
        var caller = user.ToCaller();
        if (await namespaces.RoleAsync(caller, ns, ct) is null)
        {
            throw new NotFoundException($"Namespace '{ns}' does not exist.");
        }

        var term = string.IsNullOrWhiteSpace(search) ? ns + "/" : $"{ns}/{search.Trim()}";
        var page = await service.QueryAsync(caller, new ImageStreamQuery(term, ImageStreamSort.Name, false, skip ?? 0, take ?? 100), ct);
        return TypedResults.Ok(new PageDto<ImageStreamSummaryDto>(
            [.. page.Items.Select(r => new ImageStreamSummaryDto(r.Namespace, r.Name, r.Tags, r.CreatedAt, r.LastChange))], page.Total));
    }

    private static async Task<Created<ImageStreamDto>> Create(string ns, ImageStreamRequest request, ImageStreamService service,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var caller = user.ToCaller();
        var created = await service.CreateAsync(caller, ns, request.Name, request.Labels, request.Annotations, ct);
        var view = await service.GetAsync(caller, ns, created.Name, ct);
        return TypedResults.Created($"/api/v1/namespaces/{ns}/imagestreams/{created.Name}", ImageStreamDto.From(view.Stream));
    }

    private static async Task<Ok<ImageStreamDto>> Get(string ns, string name, ImageStreamService service, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(ImageStreamDto.From((await service.GetAsync(user.ToCaller(), ns, name, ct)).Stream));

    private static async Task<NoContent> Delete(string ns, string name, ImageStreamService service, ClaimsPrincipal user, CancellationToken ct)
    {
        await service.DeleteAsync(user.ToCaller(), ns, name, ct);
        return TypedResults.NoContent();
    }
}
