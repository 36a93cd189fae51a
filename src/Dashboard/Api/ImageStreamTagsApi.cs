using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Domain;
using Dashboard.Domain.Images;
using Dashboard.Domain.Import;
using Dashboard.Domain.ImageStreams;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

/// <summary>
/// A tag's source as <c>oc tag</c> takes it: a string (<c>quay.io/org/app:1</c> is an image in a registry — its first part
/// names a host —, <c>stream:tag</c> or <c>ns/stream:tag</c> another stream's tag) or OpenShift's object
/// <c>{"kind":"DockerImage"|"ImageStreamTag","name","namespace"?}</c>.
/// </summary>
[JsonConverter(typeof(TagFromConverter))]
public sealed record TagFromDto(TagSourceKind Kind, string? Name, string? Namespace = null)
{
    public static TagFromDto Parse(string value)
    {
        var text = value.Trim();
        var slash = text.IndexOf('/');
        var first = slash < 0 ? "" : text[..slash];
        if (ImageReference.NamesRegistry(first) || text.Contains('@'))
        {
            return new TagFromDto(TagSourceKind.DockerImage, text);
        }

        return slash < 0
            ? new TagFromDto(TagSourceKind.ImageStreamTag, text)
            : new TagFromDto(TagSourceKind.ImageStreamTag, text[(slash + 1)..], first);
    }
}

internal sealed class TagFromConverter : JsonConverter<TagFromDto>
{
    public override TagFromDto? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return TagFromDto.Parse(reader.GetString()!);
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("\"from\" is a reference string or an object {\"kind\",\"name\"}.");
        }

        using var document = JsonDocument.ParseValue(ref reader);
        string? Text(string name) => document.RootElement.EnumerateObject()
            .FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
        var kind = Text("kind") ?? nameof(TagSourceKind.DockerImage);
        if (!Enum.TryParse<TagSourceKind>(kind, ignoreCase: true, out var parsed))
        {
            throw new JsonException($"\"from.kind\" is DockerImage or ImageStreamTag, not '{kind}'.");
        }

        return new TagFromDto(parsed, Text("name"), Text("namespace"));
    }

    public override void Write(Utf8JsonWriter writer, TagFromDto value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("kind", value.Kind.ToString());
        writer.WriteString("name", value.Name);
        if (value.Namespace is not null)
        {
            writer.WriteString("namespace", value.Namespace);
        }

        writer.WriteEndObject();
    }
}

/// <summary>A spec tag as <c>oc tag</c> sets it. Multi-platform sources are kept whole unless Legacy is asked for (unlike OpenShift).</summary>
public sealed record TagRequest(TagFromDto? From, bool Scheduled = false, bool Insecure = false,
    ImportMode ImportMode = ImportMode.PreserveOriginal, ReferencePolicy ReferencePolicy = ReferencePolicy.Source,
    Dictionary<string, string>? Annotations = null, int? IntervalSeconds = null);

public sealed record ImportOutcomeDto(string Tag, string? Image, bool Changed, TagConditionDto Condition);

/// <summary>A stream's spec tags: set one and import it (<c>oc tag</c>), import it again (<c>oc import-image</c>), remove it.</summary>
internal static class ImageStreamTagsApi
{
    /// <summary>Editors of the namespace (the domain checks the role).</summary>
    public static void MapImageStreamTagsApi(this RouteGroupBuilder api)
    {
        var tags = api.MapGroup("/namespaces/{ns}/imagestreams/{name}/tags").WithTags("Image streams");
        tags.MapPut("/{tag}", SetTag).ProducesValidationProblem();
        tags.MapPost("/{tag}/import", Import);
        tags.MapDelete("/{tag}", DeleteTag);
    }

    /// <summary><c>oc tag</c>: sets the spec tag and imports it at once; answers the stream's status for that tag.</summary>
    private static async Task<Ok<StatusTagDto>> SetTag(string ns, string name, string tag, TagRequest request, TagImport tagging,
        ImageStreamService service, ClaimsPrincipal user, CancellationToken ct)
    {
        var caller = user.ToCaller();
        var from = request.From ?? throw new ValidationFailedException("from", "A source is required, e.g. \"quay.io/org/app:1.2\" or \"stream:tag\".");
        await tagging.SetAndImportAsync(caller, ns, name,
            new TagSpec(tag, from.Kind, from.Name, from.Namespace, request.Scheduled, request.Insecure, request.ImportMode, request.ReferencePolicy,
                request.Annotations, request.IntervalSeconds), ct);
        var stream = ImageStreamDto.From((await service.GetAsync(caller, ns, name, ct)).Stream);
        return TypedResults.Ok(stream.Status.Tags.Single(t => t.Tag == tag));
    }

    /// <summary><c>oc import-image</c> for one spec tag.</summary>
    private static async Task<Ok<ImportOutcomeDto>> Import(string ns, string name, string tag, ImageImporter importer, ClaimsPrincipal user,
        TimeProvider clock, CancellationToken ct)
    {
        var outcome = await importer.ImportTagAsync(user.ToCaller(), ns, name, tag, ct);
        return TypedResults.Ok(new ImportOutcomeDto(outcome.Tag, outcome.Image, outcome.Changed,
            new TagConditionDto("ImportSuccess", outcome.Succeeded ? "True" : "False", outcome.Reason, outcome.Message, clock.GetUtcNow().UtcDateTime, 0)));
    }

    private static async Task<NoContent> DeleteTag(string ns, string name, string tag, ImageStreamService service, ClaimsPrincipal user, CancellationToken ct)
    {
        await service.DeleteTagAsync(user.ToCaller(), ns, name, tag, ct);
        return TypedResults.NoContent();
    }
}
