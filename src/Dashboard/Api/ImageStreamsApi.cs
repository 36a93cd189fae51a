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
        streams.MapPost("/{name}/import", ImportRepository).ProducesValidationProblem().Produces<RepositoryImportRunDto>(StatusCodes.Status202Accepted);
        streams.MapGet("/{name}/imports/{importId:long}", GetRepositoryImport);
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

    /// <summary>
    /// <c>oc import-image --all</c>: the repository's tags in priority order, the first maxTags imported. With
    /// <c>Prefer: respond-async</c> (RFC 7240) the import goes on in the background: <c>202 Accepted</c> at once, with a
    /// <c>Location</c> to poll for its progress and, at the end, the same outcome the synchronous answer carries.
    /// </summary>
    private static async Task<IResult> ImportRepository(string ns, string name, RepositoryImportRequestDto request, HttpRequest http,
        RepositoryImporter importer, RepositoryImportRuns runs, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var wanted = new RepositoryImportRequest(request.From, request.MaxTags, request.Insecure, request.Scheduled, request.ImportMode);
        if (PrefersAsync(http))
        {
            var run = await runs.StartAsync(user.ToCaller(), ns, name, wanted, ct);
            var location = $"/api/v1/namespaces/{Uri.EscapeDataString(run.Namespace)}/imagestreams/{Uri.EscapeDataString(run.Stream)}/imports/{run.Id}";
            http.HttpContext.Response.Headers["Preference-Applied"] = "respond-async";
            return TypedResults.Accepted(location, RepositoryImportRunDto.Of(run, clock));
        }

        var result = await importer.ImportAsync(user.ToCaller(), ns, name, wanted, ct);
        return TypedResults.Ok(RepositoryImportDto.From(result, clock.GetUtcNow().UtcDateTime));
    }

    /// <summary>A background repository import: where it is, and its outcome once it is over. For readers of the namespace.</summary>
    private static async Task<Ok<RepositoryImportRunDto>> GetRepositoryImport(string ns, string name, long importId, RepositoryImportRuns runs,
        ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var run = await runs.GetAsync(user.ToCaller(), ns, importId, ct);
        return run.Stream == name ? TypedResults.Ok(RepositoryImportRunDto.Of(run, clock))
            : throw new NotFoundException($"Image stream '{ns}/{name}' has no repository import {importId}.");
    }

    private static bool PrefersAsync(HttpRequest request) =>
        request.Headers["Prefer"].SelectMany(value => (value ?? "").Split(',')).Any(p => p.Trim().Equals("respond-async", StringComparison.OrdinalIgnoreCase));

    private static async Task<NoContent> DeleteTag(string ns, string name, string tag, ImageStreamService service, ClaimsPrincipal user, CancellationToken ct)
    {
        await service.DeleteTagAsync(user.ToCaller(), ns, name, tag, ct);
        return TypedResults.NoContent();
    }
}
