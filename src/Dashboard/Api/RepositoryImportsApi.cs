using System.Security.Claims;
using Dashboard.Domain;
using Dashboard.Domain.Import;
using Dashboard.Domain.ImageStreams;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

public sealed record RepositoryImportRequestDto(string? From, int? MaxTags, bool Insecure = false, bool Scheduled = false,
    ImportMode ImportMode = ImportMode.PreserveOriginal);

public sealed record ImportedTagDto(string Tag, string? Image, TagConditionDto Condition);

/// <param name="TagListCut">The registry listed more tags than <c>Dashboard:Import:MaxListedTags</c>: the rest were not read, so not ordered either.</param>
public sealed record RepositoryImportDto(IReadOnlyList<ImportedTagDto> Imported, IReadOnlyList<string> AdditionalTags, bool TagListCut)
{
    public static RepositoryImportDto From(RepositoryImportResult result, DateTime at) => new(
        [.. result.Imported.Select(o => new ImportedTagDto(o.Tag, o.Image,
            new TagConditionDto("ImportSuccess", o.Succeeded ? "True" : "False", o.Reason, o.Message, at, 0)))],
        result.AdditionalTags, result.ListCut);
}

/// <summary>
/// A background repository import: <c>state</c> Queued, Running, Finished (every tag tried; <c>failed</c> of them failed)
/// or Failed (the import as a whole, <c>message</c> says why); <c>done</c> of <c>total</c> tags, the ones in flight, and
/// once Finished the same <c>result</c> the synchronous call answers.
/// </summary>
public sealed record RepositoryImportRunDto(long Id, string Namespace, string Stream, string From, RepositoryImportState State, int Total, int Done,
    int Failed, IReadOnlyList<string> InFlight, string? Message, DateTime StartedAt, DateTime? FinishedAt, RepositoryImportDto? Result)
{
    public static RepositoryImportRunDto Of(RepositoryImportRun run, TimeProvider clock) => new(run.Id, run.Namespace, run.Stream, run.From,
        run.State, run.Total, run.Done, run.Failed, run.InFlight is { Length: > 0 } inFlight ? inFlight.Split(", ") : [], run.Message, run.StartedAt,
        run.FinishedAt, RepositoryImportRuns.ResultOf(run) is { } result ? RepositoryImportDto.From(result, run.FinishedAt ?? clock.GetUtcNow().UtcDateTime) : null);
}

/// <summary><c>oc import-image --all</c>: a whole repository into a stream, at once or in the background. Editors of the namespace.</summary>
internal static class RepositoryImportsApi
{
    public static void MapRepositoryImportsApi(this RouteGroupBuilder api)
    {
        var streams = api.MapGroup("/namespaces/{ns}/imagestreams/{name}").WithTags("Image streams");
        streams.MapPost("/import", ImportRepository).ProducesValidationProblem().Produces<RepositoryImportRunDto>(StatusCodes.Status202Accepted);
        streams.MapGet("/imports/{importId:long}", GetRepositoryImport);
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
}
