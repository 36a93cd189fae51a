using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Dashboard.Domain.Policy;

/// <summary>One Kubernetes object of a release: where it was in the input, its kind, name and own namespace, and the object.</summary>
public sealed record Manifest(string Where, string Kind, string? Name, string? Namespace, JsonElement Object);

/// <summary>
/// Reads what <c>helm template</c> or <c>kubectl kustomize</c> prints: YAML documents separated by <c>---</c> (or one JSON
/// object), each one Kubernetes object; a <c>List</c> (<c>kind: List</c> with <c>items</c>) stands for its items. Empty
/// documents (a template that rendered nothing) are skipped. Every scalar is read as a string, which is all the images'
/// paths need.
/// </summary>
/// <remarks>
/// Built from the parser's events rather than a deserializer, so that every refusal can name the document and line, and so
/// that aliases are bounded: a few aliases nested into each other expand a small text into billions of nodes (the
/// "billion laughs"), so at most <see cref="MaxAliases"/> aliases are read, expanding to at most
/// <see cref="MaxAliasedNodes"/> nodes in all.
/// </remarks>
public static class ManifestReader
{
    public const int MaxDocuments = 500;

    public const int MaxObjects = 500;

    public const int MaxAliases = 100;

    public const int MaxAliasedNodes = 10_000;

    public const int MaxDepth = 64;

    /// <summary>The objects of <paramref name="text"/>; anything it cannot read is a <see cref="ValidationFailedException"/> on <paramref name="field"/>.</summary>
    public static IReadOnlyList<Manifest> Read(string text, string field)
    {
        var objects = new List<Manifest>();
        if (text.TrimStart().StartsWith('{'))
        {
            Add(objects, ParseJson(text, field), "The JSON", field);
            return objects;
        }

        var reader = new DocumentReader(new Parser(new StringReader(text)), field);
        foreach (var (number, line, root) in reader.Documents())
        {
            if (root is null)
            {
                continue;
            }

            Add(objects, root as JsonObject ?? throw Invalid(field, $"Document {number} (line {line}) is not a mapping: each document is one Kubernetes object."),
                $"Document {number} (line {line})", field);
        }

        return objects;
    }

    private static JsonObject ParseJson(string text, string field)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth }) as JsonObject
                ?? throw Invalid(field, "The JSON is not an object.");
        }
        catch (JsonException e)
        {
            throw Invalid(field, $"The JSON cannot be read: {e.Message}");
        }
    }

    private static void Add(List<Manifest> objects, JsonObject obj, string where, string field)
    {
        string? Text(JsonObject o, string property, string path) => o[property] switch
        {
            null => null,
            JsonValue value when value.TryGetValue<string>(out var s) => s,
            _ => throw Invalid(field, $"{where}: '{path}' is not a string."),
        };

        JsonObject? metadata;
        string? kind;
        try
        {
            kind = Text(obj, "kind", "kind");
            metadata = obj["metadata"] as JsonObject;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // A JSON object reads its properties on first use and refuses a duplicate name then.
            throw Invalid(field, $"{where} cannot be read: {e.Message}");
        }

        if (string.IsNullOrWhiteSpace(kind))
        {
            throw Invalid(field, $"{where} has no 'kind'.");
        }

        if (kind == "List" || (kind.EndsWith("List", StringComparison.Ordinal) && obj["items"] is JsonArray))
        {
            if (obj["items"] is not JsonArray items)
            {
                throw Invalid(field, $"{where}: a {kind} needs an 'items' list.");
            }

            for (var i = 0; i < items.Count; i++)
            {
                Add(objects, items[i] as JsonObject ?? throw Invalid(field, $"{where}: item {i + 1} is not an object."), $"{where}, item {i + 1}", field);
            }

            return;
        }

        if (objects.Count == MaxObjects)
        {
            throw Invalid(field, $"More than {MaxObjects} objects: evaluate a release in parts.");
        }

        objects.Add(new Manifest(where, kind, metadata is null ? null : Text(metadata, "name", "metadata.name"),
            metadata is null ? null : Text(metadata, "namespace", "metadata.namespace"), JsonSerializer.SerializeToElement(obj, PolicyStore.Json)));
    }

    private static ValidationFailedException Invalid(string field, string message) => new(field, message);

    /// <summary>The documents of one YAML stream as JSON, with their number and first line.</summary>
    private sealed class DocumentReader(IParser parser, string field)
    {
        private readonly Dictionary<string, (JsonNode? Node, int Size)> _anchors = [];
        private int _document;
        private int _aliases;
        private int _aliasedNodes;
        private bool _between = true;

        public IEnumerable<(int Number, long Line, JsonNode? Root)> Documents()
        {
            Guard(() => parser.Consume<StreamStart>());
            while (Guard(() => parser.TryConsume<DocumentStart>(out _)))
            {
                _document++;
                if (_document > MaxDocuments)
                {
                    throw Invalid(field, $"More than {MaxDocuments} documents: evaluate a release in parts.");
                }

                // Anchors belong to their document (YAML 1.2, 3.2.2.2).
                _anchors.Clear();
                var line = parser.Current?.Start.Line ?? 0;
                _between = false;
                var (root, _) = Guard(() => Node(depth: 1));
                // Consuming the end reads on into the next document.
                _between = true;
                Guard(() => parser.Consume<DocumentEnd>());
                yield return (_document, line, root);
            }

            Guard(() => parser.Consume<StreamEnd>());
        }

        private T Guard<T>(Func<T> read)
        {
            try
            {
                return read();
            }
            catch (YamlException e)
            {
                // The parser reads ahead: an error between documents belongs to the next one.
                var number = _between ? _document + 1 : _document;
                throw Invalid(field, $"Document {number} is not YAML (line {e.Start.Line}, column {e.Start.Column}): {Reason(e)}");
            }
        }

        private static string Reason(YamlException e)
        {
            // YamlDotNet puts the positions in the message; the line and column are given once, above.
            var message = e.Message;
            var cut = message.IndexOf("): ", StringComparison.Ordinal);
            return message.StartsWith('(') && cut > 0 ? message[(cut + 3)..] : message;
        }

        private ValidationFailedException Refuse(ParsingEvent at, string message) =>
            Invalid(field, $"Document {_document} (line {at.Start.Line}): {message}");

        /// <summary>The node at the parser, and how many nodes it holds.</summary>
        private (JsonNode? Node, int Size) Node(int depth)
        {
            if (depth > MaxDepth)
            {
                throw Refuse(parser.Current!, $"nested deeper than {MaxDepth} levels.");
            }

            var at = parser.Current!;
            (JsonNode? Node, int Size) read;
            AnchorName anchor;
            switch (at)
            {
                case AnchorAlias alias:
                    parser.MoveNext();
                    if (!_anchors.TryGetValue(alias.Value.Value, out var anchored))
                    {
                        throw Refuse(at, $"the alias *{alias.Value} names no anchor before it.");
                    }

                    _aliases++;
                    _aliasedNodes += anchored.Size;
                    if (_aliases > MaxAliases || _aliasedNodes > MaxAliasedNodes)
                    {
                        throw Refuse(at, $"too many aliases: at most {MaxAliases}, expanding to at most {MaxAliasedNodes} nodes in all.");
                    }

                    return (anchored.Node?.DeepClone(), anchored.Size);
                case Scalar scalar:
                    parser.MoveNext();
                    anchor = scalar.Anchor;
                    read = (IsNull(scalar) ? null : JsonValue.Create(scalar.Value), 1);
                    break;
                case SequenceStart sequence:
                    parser.MoveNext();
                    anchor = sequence.Anchor;
                    var array = new JsonArray();
                    var items = 1;
                    while (!parser.TryConsume<SequenceEnd>(out _))
                    {
                        var (item, size) = Node(depth + 1);
                        array.Add(item);
                        items += size;
                    }

                    read = (array, items);
                    break;
                case MappingStart mapping:
                    parser.MoveNext();
                    anchor = mapping.Anchor;
                    var obj = new JsonObject();
                    var entries = 1;
                    while (!parser.TryConsume<MappingEnd>(out _))
                    {
                        var keyAt = parser.Current!;
                        if (keyAt is not Scalar key)
                        {
                            throw Refuse(keyAt, "a key is not a plain value.");
                        }

                        parser.MoveNext();
                        if (obj.ContainsKey(key.Value))
                        {
                            throw Refuse(keyAt, $"the key '{key.Value}' appears twice.");
                        }

                        var (value, size) = Node(depth + 1);
                        obj[key.Value] = value;
                        entries += size + 1;
                    }

                    read = (obj, entries);
                    break;
                default:
                    throw Refuse(at, $"unexpected {at.GetType().Name}.");
            }

            if (!anchor.IsEmpty)
            {
                _anchors[anchor.Value] = read;
            }

            return read;
        }

        /// <summary>YAML's null: an empty plain value, <c>~</c> or <c>null</c> (the YAML 1.2 core schema).</summary>
        private static bool IsNull(Scalar scalar) =>
            scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL";
    }
}
