using Dashboard.Domain.Images;
using Dashboard.Domain.Namespaces;

namespace Dashboard.Domain.ImageStreams;

/// <summary>
/// A named set of tags in a namespace, shaped after OpenShift's <c>ImageStream</c>: spec tags say what each tag
/// should point at, status keeps per tag the history of images it pointed at (newest first) and its import condition.
/// </summary>
public sealed class ImageStream
{
    private readonly List<TagReference> _specTags = [];
    private readonly List<TagEvent> _history = [];
    private readonly List<TagCondition> _conditions = [];
    private readonly List<TagImportEvent> _raised = [];

    private ImageStream()
    {
        Name = "";
    }

    public ImageStream(Namespace @namespace, string name, IReadOnlyDictionary<string, string>? labels,
        IReadOnlyDictionary<string, string>? annotations, DateTime createdAt)
    {
        Namespace = @namespace;
        NamespaceId = @namespace.Id;
        Name = name;
        Labels = new Dictionary<string, string>(labels ?? new Dictionary<string, string>());
        Annotations = new Dictionary<string, string>(annotations ?? new Dictionary<string, string>());
        CreatedAt = createdAt;
        Generation = 1;
    }

    public int Id { get; private set; }

    public int NamespaceId { get; private set; }

    public Namespace Namespace { get; private set; } = null!;

    public string Name { get; private set; }

    public Dictionary<string, string> Labels { get; private set; } = [];

    public Dictionary<string, string> Annotations { get; private set; } = [];

    public DateTime CreatedAt { get; private set; }

    /// <summary>Raised by every spec change; a spec tag records the generation it was last changed at.</summary>
    public long Generation { get; private set; }

    public IReadOnlyList<TagReference> SpecTags => _specTags;

    public IReadOnlyList<TagEvent> History => _history;

    public IReadOnlyList<TagCondition> Conditions => _conditions;

    public TagReference? FindTag(string name) => _specTags.Find(t => t.Name == name);

    /// <summary>
    /// Creates or changes a spec tag; the tag's generation moves on, so an import of it is due. <paramref name="setBy"/> is
    /// the user whose read access a follow of another namespace's tag keeps relying on (docs/security.md).
    /// </summary>
    public TagReference SetTag(string name, TagSource from, bool scheduled, bool insecure, ImportMode importMode, ReferencePolicy referencePolicy,
        IReadOnlyDictionary<string, string>? annotations = null, int? intervalSeconds = null, string? setBy = null)
    {
        if (TagName.Validate(name) is { } problem)
        {
            throw new ValidationFailedException("name", problem);
        }

        if (from.Kind == TagSourceKind.ImageStreamTag && (from.Namespace ?? Namespace.Name) == Namespace.Name && from.Name == $"{Name}:{name}")
        {
            throw new ValidationFailedException("from", "A tag cannot follow itself.");
        }

        var tag = FindTag(name);
        if (tag is null)
        {
            tag = new TagReference(name);
            _specTags.Add(tag);
        }

        // Above every generation the history holds, so a spec change always reads as "import needed".
        Generation = Math.Max(Generation, _history.Select(e => e.Generation).DefaultIfEmpty(0).Max()) + 1;
        tag.Update(from, scheduled, insecure, importMode, referencePolicy, Generation, annotations, intervalSeconds, setBy);
        return tag;
    }

    /// <summary>Removes a spec tag together with its history and conditions.</summary>
    public bool RemoveTag(string name)
    {
        var removed = _specTags.RemoveAll(t => t.Name == name) > 0;
        removed |= _history.RemoveAll(e => e.Tag == name) > 0;
        _conditions.RemoveAll(c => c.Tag == name);
        if (removed)
        {
            Generation++;
        }

        return removed;
    }

    /// <summary>The tag's history, newest first; the first entry is the tag's current image.</summary>
    public IEnumerable<TagEvent> HistoryOf(string tag) =>
        _history.Select((entry, index) => (entry, index))
            .Where(x => x.entry.Tag == tag)
            .OrderByDescending(x => x.entry.Created)
            // Ties in time go to the later entry: saved ones by id, unsaved ones (id 0) are newer than any saved one.
            .ThenByDescending(x => x.entry.Id == 0 ? long.MaxValue : x.entry.Id)
            .ThenByDescending(x => x.index)
            .Select(x => x.entry);

    public TagEvent? CurrentImage(string tag) => HistoryOf(tag).FirstOrDefault();

    /// <summary>Every tag that has a spec or a status, in name order.</summary>
    public IEnumerable<string> TagNames() =>
        _specTags.Select(t => t.Name).Concat(_history.Select(e => e.Tag)).Distinct().Order(StringComparer.Ordinal);

    /// <summary>
    /// Records that <paramref name="tag"/> now points at the image <paramref name="digest"/> pulled from
    /// <paramref name="source"/>. Nothing is added when the tag already points at that digest, so re-running
    /// the same import is harmless.
    /// </summary>
    /// <returns>The new history entry, or <c>null</c> when the tag did not change.</returns>
    public TagEvent? RecordImage(string tag, ImageReference source, Digest digest, DateTime at)
    {
        if (CurrentImage(tag)?.Image == digest.ToString())
        {
            return null;
        }

        // Each new image of a tag is the tag's next generation; a spec change since the last one carries its own, higher one.
        var previous = CurrentImage(tag)?.Generation ?? 0;
        var generation = Math.Max(FindTag(tag)?.Generation ?? Generation, previous + 1);
        var entry = new TagEvent(tag, at, source.WithDigest(digest).ToString(), digest.ToString(), generation);
        _history.Add(entry);
        return entry;
    }

    /// <summary>Hands over what the imports recorded on this instance raised, oldest first (to the handlers of the unit of work), and forgets it.</summary>
    public IReadOnlyList<TagImportEvent> TakeRaised()
    {
        var raised = _raised.ToList();
        _raised.Clear();
        return raised;
    }

    /// <summary>
    /// Records a successful import of <paramref name="tag"/>: a history entry when it points at a new image, and the
    /// ImportSuccess condition. Raises <see cref="TagImported"/>, and <see cref="TagChanged"/> first when it moved.
    /// </summary>
    public TagEvent? RecordImport(string tag, ImageReference source, Digest digest, string note, DateTime at)
    {
        var previous = CurrentImage(tag)?.Image;
        var entry = RecordImage(tag, source, digest, at);
        SetCondition(tag, TagCondition.ImportSuccess, true, entry is null ? "Unchanged" : "Imported", note, at);
        if (entry is not null)
        {
            _raised.Add(new TagChanged(this, tag, at, entry, previous, source));
        }

        _raised.Add(new TagImported(this, tag, at, digest, entry is not null, note));
        return entry;
    }

    /// <summary>Records a failed import of <paramref name="tag"/>: ImportSuccess=False with why; the tag keeps its image. Raises <see cref="TagImportFailed"/>.</summary>
    public void RecordImportFailure(string tag, string reason, string message, DateTime at)
    {
        SetCondition(tag, TagCondition.ImportSuccess, false, reason, message, at);
        _raised.Add(new TagImportFailed(this, tag, at, reason, message));
    }

    /// <summary>Sets the tag's condition of <paramref name="type"/>; its transition time moves only when the status changes.</summary>
    public TagCondition SetCondition(string tag, string type, bool status, string reason, string message, DateTime at)
    {
        var condition = _conditions.Find(c => c.Tag == tag && c.Type == type);
        if (condition is null)
        {
            condition = new TagCondition(tag, type);
            _conditions.Add(condition);
        }

        condition.Set(status ? "True" : "False", reason, message, at, FindTag(tag)?.Generation ?? Generation);
        return condition;
    }
}
