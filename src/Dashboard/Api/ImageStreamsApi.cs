using System.Security.Claims;
using Dashboard.Domain;
using Dashboard.Domain.Import;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

internal static class ImageStreamsApi
{
    public static void MapImageStreamsApi(this RouteGroupBuilder api)
    {
        var streams = api.MapGroup("/namespaces/{ns}/imagestreams").WithTags("Image streams");
        streams.MapGet("/", List);
        streams.MapPost("/", Create).ProducesValidationProblem().ProducesProblem(409);
        streams.MapGet("/{name}", Get);
        streams.MapDelete("/{name}", Delete);
        streams.MapPut("/{name}/tags/{tag}", SetTag).ProducesValidationProblem();
        streams.MapPost("/{name}/import", ImportRepository).ProducesValidationProblem();
        streams.MapDelete("/{name}/tags/{tag}", DeleteTag);
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

    /// <summary><c>oc tag</c>: sets the spec tag and imports it at once; answers the stream's status for that tag.</summary>
    private static async Task<Ok<StatusTagDto>> SetTag(string ns, string name, string tag, TagRequest request, ImageStreamService service,
        ImageImporter importer, ClaimsPrincipal user, CancellationToken ct)
    {
        var caller = user.ToCaller();
        var from = request.From ?? throw new ValidationFailedException("from", "A source is required, e.g. \"quay.io/org/app:1.2\" or \"stream:tag\".");
        await service.SetTagAsync(caller, ns, name,
            new TagSpec(tag, from.Kind, from.Name, from.Namespace, request.Scheduled, request.Insecure, request.ImportMode, request.ReferencePolicy,
                request.Annotations, request.IntervalSeconds), ct);
        await importer.ImportTagAsync(caller, ns, name, tag, ct);
        var stream = ImageStreamDto.From((await service.GetAsync(caller, ns, name, ct)).Stream);
        return TypedResults.Ok(stream.Status.Tags.Single(t => t.Tag == tag));
    }

    /// <summary><c>oc import-image --all</c>: the repository's tags in priority order, the first maxTags imported.</summary>
    private static async Task<Ok<RepositoryImportDto>> ImportRepository(string ns, string name, RepositoryImportRequestDto request,
        RepositoryImporter importer, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var result = await importer.ImportAsync(user.ToCaller(), ns, name,
            new RepositoryImportRequest(request.From, request.MaxTags, request.Insecure, request.Scheduled, request.ImportMode), ct);
        var now = clock.GetUtcNow().UtcDateTime;
        return TypedResults.Ok(new RepositoryImportDto(
            [.. result.Imported.Select(o => new ImportedTagDto(o.Tag, o.Image,
                new TagConditionDto("ImportSuccess", o.Succeeded ? "True" : "False", o.Reason, o.Message, now, 0)))],
            result.AdditionalTags, result.ListCut));
    }

    private static async Task<NoContent> DeleteTag(string ns, string name, string tag, ImageStreamService service, ClaimsPrincipal user, CancellationToken ct)
    {
        await service.DeleteTagAsync(user.ToCaller(), ns, name, tag, ct);
        return TypedResults.NoContent();
    }
}
