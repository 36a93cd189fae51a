using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Dashboard.Domain.Policy;

/// <summary>
/// The console's "try it": image references one per line, or a Pod, Deployment (any kind admission reads) or Build as
/// YAML or JSON, turned into the question admission would ask.
/// </summary>
public static class PolicyTrial
{
    public const int MaxInputLength = 256 * 1024;

    /// <summary>The resource and images the input asks about; a manifest decides the resource by its kind.</summary>
    public static (string Resource, IReadOnlyList<CheckedImage> Images) Read(string? input, string resource)
    {
        input = input?.Trim();
        if (string.IsNullOrEmpty(input))
        {
            throw new ValidationFailedException("input", "Paste image references (one per line) or a manifest.");
        }

        if (input.Length > MaxInputLength)
        {
            throw new ValidationFailedException("input", $"At most {MaxInputLength / 1024} KiB.");
        }

        var lines = input.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var isManifest = input.StartsWith('{') || lines.Any(l => l.StartsWith("kind:", StringComparison.Ordinal) || l.StartsWith("apiVersion:", StringComparison.Ordinal));
        if (!isManifest)
        {
            return (resource, [.. lines.Where(l => !l.StartsWith('#')).Select(l => new CheckedImage(l))]);
        }

        var manifest = Parse(input);
        var kind = manifest["kind"] is JsonValue k && k.TryGetValue<string>(out var text) ? text
            : throw new ValidationFailedException("input", "The manifest has no 'kind'.");
        var review = new JsonObject
        {
            ["request"] = new JsonObject
            {
                ["uid"] = "try-it",
                ["operation"] = "CREATE",
                ["kind"] = new JsonObject { ["kind"] = kind },
                ["object"] = manifest,
            },
        };
        var question = AdmissionReviewReader.Read(review);
        if (question.Images.Count == 0)
        {
            throw new ValidationFailedException("input", $"A {kind} with no images the policy reads (Pods, workloads, CronJobs, Builds are read).");
        }

        return (question.Resource, question.Images);
    }

    private static JsonNode? ToJson(object? yaml) => yaml switch
    {
        IDictionary<object, object?> map => new JsonObject(map.Select(e => KeyValuePair.Create(e.Key.ToString() ?? "", ToJson(e.Value)))),
        IList<object?> list => new JsonArray([.. list.Select(ToJson)]),
        null => null,
        var scalar => JsonValue.Create(scalar.ToString()),
    };

    private static JsonObject Parse(string input)
    {
        try
        {
            if (input.StartsWith('{'))
            {
                return JsonNode.Parse(input) as JsonObject ?? throw new ValidationFailedException("input", "The JSON is not an object.");
            }

            // YAML to JSON: the YAML's structure with every scalar as a string, which is all the images' paths need.
            var yaml = new DeserializerBuilder().Build().Deserialize<object>(input);
            return ToJson(yaml) as JsonObject ?? throw new ValidationFailedException("input", "The YAML is not a mapping.");
        }
        catch (Exception e) when (e is JsonException or YamlException)
        {
            throw new ValidationFailedException("input", $"The manifest cannot be read: {e.Message}");
        }
    }
}
