using System.Text.Json;
using Dashboard.Domain.Images;

namespace Dashboard.Domain.Registry;

public sealed record Descriptor(string MediaType, Digest Digest, long? Size, Platform? Platform, IReadOnlyDictionary<string, string> Annotations);

/// <summary>A parsed manifest: a single image (config and layers) or an index of per-platform manifests.</summary>
public sealed record ManifestDocument(string MediaType, Descriptor? Config, IReadOnlyList<Descriptor> Layers, IReadOnlyList<Descriptor> Manifests)
{
    public bool IsIndex => MediaTypes.IsIndex(MediaType);

    /// <summary>
    /// Parses a Docker schema 2 or OCI manifest or index. The media type comes from the body's <c>mediaType</c>
    /// when present, else from the response header; schema 1 is refused.
    /// </summary>
    public static ManifestDocument Parse(byte[] content, string headerMediaType)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content);
        }
        catch (JsonException e)
        {
            throw Invalid($"the manifest is not valid JSON ({e.Message})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("the manifest is not a JSON object");
            }

            var schemaVersion = root.TryGetProperty("schemaVersion", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : 0;
            var mediaType = root.TryGetProperty("mediaType", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : headerMediaType;
            if (schemaVersion == 1 || mediaType is MediaTypes.DockerSchema1 or MediaTypes.DockerSchema1Signed)
            {
                throw new RegistryException(RegistryFailure.InvalidManifest, "manifest schema 1 is not supported");
            }

            if (schemaVersion != 2)
            {
                throw Invalid($"schemaVersion is {(schemaVersion == 0 ? "missing" : schemaVersion)}, expected 2");
            }

            if (root.TryGetProperty("manifests", out var manifests))
            {
                if (string.IsNullOrEmpty(mediaType) || !MediaTypes.IsIndex(mediaType))
                {
                    mediaType = MediaTypes.OciIndex;
                }

                return new ManifestDocument(mediaType, null, [], ReadDescriptors(manifests, "manifests"));
            }

            if (!root.TryGetProperty("config", out var config))
            {
                throw Invalid("the manifest has neither config nor manifests");
            }

            if (string.IsNullOrEmpty(mediaType) || MediaTypes.IsIndex(mediaType))
            {
                mediaType = MediaTypes.OciManifest;
            }

            var layers = root.TryGetProperty("layers", out var l) ? ReadDescriptors(l, "layers") : [];
            return new ManifestDocument(mediaType, ReadDescriptor(config, "config"), layers, []);
        }
    }

    private static IReadOnlyList<Descriptor> ReadDescriptors(JsonElement array, string field)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid($"{field} is not a list");
        }

        return [.. array.EnumerateArray().Select((d, i) => ReadDescriptor(d, $"{field}[{i}]"))];
    }

    private static Descriptor ReadDescriptor(JsonElement element, string field)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{field} is not an object");
        }

        var digestText = element.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        if (!Digest.TryParse(digestText, out var digest, out var error))
        {
            throw Invalid($"{field}.digest: {error}");
        }

        var mediaType = element.TryGetProperty("mediaType", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
        long? size = element.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var bytes) && bytes >= 0 ? bytes : null;
        Platform? platform = null;
        if (element.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            platform = new Platform(Text(p, "architecture") ?? "unknown", Text(p, "os") ?? "unknown", Text(p, "variant"));
        }

        var annotations = new Dictionary<string, string>();
        if (element.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in a.EnumerateObject().Where(x => x.Value.ValueKind == JsonValueKind.String))
            {
                annotations[property.Name] = property.Value.GetString()!;
            }
        }

        return new Descriptor(mediaType, digest, size, platform, annotations);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private static RegistryException Invalid(string problem) => new(RegistryFailure.InvalidManifest, $"Malformed manifest: {problem}.");
}

/// <summary>What the dashboard keeps of an image config blob.</summary>
public static class ImageConfigDocument
{
    public static ImageConfig Parse(byte[] content)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new RegistryException(RegistryFailure.InvalidManifest, "The image config is not a JSON object.");
            }

            var labels = new Dictionary<string, string>();
            if (root.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.Object
                && config.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object)
            {
                foreach (var label in l.EnumerateObject().Where(x => x.Value.ValueKind == JsonValueKind.String))
                {
                    labels[label.Name] = label.Value.GetString()!;
                }
            }

            DateTime? created = root.TryGetProperty("created", out var c) && c.ValueKind == JsonValueKind.String && c.TryGetDateTime(out var at)
                ? at.ToUniversalTime()
                : null;
            return new ImageConfig
            {
                Created = created,
                Architecture = Text(root, "architecture"),
                Os = Text(root, "os"),
                Variant = Text(root, "variant"),
                Labels = labels,
            };
        }
        catch (JsonException e)
        {
            throw new RegistryException(RegistryFailure.InvalidManifest, $"The image config is not valid JSON ({e.Message}).");
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
