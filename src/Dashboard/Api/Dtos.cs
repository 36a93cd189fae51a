using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Domain.Images;
using Dashboard.Domain.Import;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;

namespace Dashboard.Api;

// JSON shapes follow OpenShift's image API (image/v1), so its users recognise them.

public sealed record NamespaceRequest(string? Name);

/// <param name="AnonymousPull">Whether registry clients may pull this namespace's images through the dashboard without logging in.</param>
/// <param name="Shared">Whether this namespace's streams resolve image references for every namespace (admission pins, policy facts).</param>
public sealed record NamespaceDto(string Name, DateTime CreatedAt, int ImageStreams, NamespaceRole? Role, bool AnonymousPull, bool Shared);

public sealed record AnonymousPullRequest(bool? Allowed);

public sealed record SharedRequest(bool? Shared);

public sealed record MemberRequest(NamespaceRole? Role);

public sealed record MemberDto(string UserName, NamespaceRole Role);

public sealed record ImageStreamRequest(string? Name, Dictionary<string, string>? Labels, Dictionary<string, string>? Annotations);

public sealed record ImageStreamSummaryDto(string Namespace, string Name, int Tags, DateTime CreatedAt, DateTime? LastChange);

public sealed record ObjectReferenceDto(TagSourceKind Kind, string? Name, string? Namespace = null);

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

public sealed record LayerDto(string Digest, long Size, string MediaType);

public sealed record ImageConfigDto(DateTime? Created, string? Architecture, string? Os, string? Variant, IReadOnlyDictionary<string, string> Labels);

public sealed record PlatformDto(string Architecture, string Os, string? Variant);

public sealed record ChildManifestDto(string Digest, string MediaType, long Size, PlatformDto Platform);

public sealed record ImageUseDto(string Namespace, string Stream, string Tag, bool Current);

public sealed record ImageDto(string Digest, string DockerImageReference, string MediaType, long Size, IReadOnlyList<LayerDto> Layers,
    ImageConfigDto Config, IReadOnlyList<ChildManifestDto> Manifests, IReadOnlyDictionary<string, string> Annotations, IReadOnlyList<ImageUseDto>? UsedBy)
{
    public static ImageDto From(Image i, IReadOnlyList<ImageUse>? uses) => new(
        i.Digest, i.DockerImageReference, i.MediaType, i.Size,
        [.. i.Layers.Select(l => new LayerDto(l.Digest, l.Size, l.MediaType))],
        new ImageConfigDto(i.Config.Created, i.Config.Architecture, i.Config.Os, i.Config.Variant, i.Config.Labels),
        [.. i.Manifests.Select(m => new ChildManifestDto(m.Digest, m.MediaType, m.Size, new PlatformDto(m.Platform.Architecture, m.Platform.Os, m.Platform.Variant)))],
        i.Annotations,
        uses?.Select(u => new ImageUseDto(u.Namespace, u.Stream, u.Tag, u.Current)).ToList());
}

public sealed record TokenRequest(string? Name, DateTime? ExpiresAt);

public sealed record NewTokenDto(Guid Id, string Name, string Token, DateTime? ExpiresAt);

public sealed record TokenDto(Guid Id, string Name, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? LastUsedAt);

public sealed record UserRequest(string? UserName, string? Password, bool Admin = false);

public sealed record UserChangeRequest(string? Password, bool? Admin, bool? Disabled);

public sealed record UserDto(string UserName, bool Admin, bool Disabled, bool LockedOut, DateTime CreatedAt, IReadOnlyList<MemberOfDto> Memberships);

public sealed record MemberOfDto(string Namespace, NamespaceRole Role);

public sealed record EventDto(long Id, DateTime At, string User, string Action, string Kind, string? Namespace, string Target, string Summary);

public sealed record PageDto<T>(IReadOnlyList<T> Items, int Total);
