using Dashboard.Domain.Images;

namespace Dashboard.Domain.ImageStreams;

/// <summary>Where a tag's image comes from, as OpenShift's <c>from</c> object reference.</summary>
public enum TagSourceKind
{
    /// <summary>An image in a registry, e.g. <c>quay.io/org/app:1.2</c>.</summary>
    DockerImage,

    /// <summary>Another image stream's tag, <c>stream:tag</c> in a namespace: this tag follows it.</summary>
    ImageStreamTag,
}

/// <summary>How a manifest list is imported (OpenShift's <c>importMode</c>).</summary>
public enum ImportMode
{
    /// <summary>Keep one platform of a manifest list.</summary>
    Legacy,

    /// <summary>Keep the whole list and every child manifest.</summary>
    PreserveOriginal,
}

/// <summary>Which reference pulls through the tag resolve to (OpenShift's <c>referencePolicy.type</c>).</summary>
public enum ReferencePolicy
{
    /// <summary>Clients pull from the upstream registry.</summary>
    Source,

    /// <summary>Clients pull through the dashboard's own registry endpoint.</summary>
    Local,
}

/// <summary>The source of a tag: an upstream image or another stream tag.</summary>
public sealed record TagSource(TagSourceKind Kind, string Name, string? Namespace = null)
{
    /// <summary>Checks the source's syntax, and returns it in its canonical form.</summary>
    public static TagSource Validated(TagSourceKind kind, string? name, string? @namespace, string field)
    {
        if (kind == TagSourceKind.DockerImage)
        {
            if (!ImageReference.TryParse(name, out var reference, out var error))
            {
                throw new ValidationFailedException(field, error);
            }

            return new TagSource(kind, reference.ToString());
        }

        var colon = name?.IndexOf(':') ?? -1;
        if (name is null || colon <= 0)
        {
            throw new ValidationFailedException(field, "An image stream tag is written stream:tag.");
        }

        var problem = ImageStreamName.Validate(name[..colon]) ?? TagName.Validate(name[(colon + 1)..])
            ?? (@namespace is null ? null : Namespaces.NamespaceName.Validate(@namespace));
        if (problem is not null)
        {
            throw new ValidationFailedException(field, problem);
        }

        return new TagSource(kind, name, @namespace);
    }

    public override string ToString() =>
        Kind == TagSourceKind.DockerImage ? Name : (Namespace is null ? Name : $"{Namespace}/{Name}");
}

/// <summary>A spec tag: what the tag should point at and how it is imported.</summary>
public sealed class TagReference
{
    private TagReference()
    {
        Name = "";
        FromName = "";
    }

    internal TagReference(string name)
    {
        Name = name;
        FromName = "";
    }

    public int Id { get; private set; }

    public int ImageStreamId { get; private set; }

    public string Name { get; private set; }

    public TagSourceKind FromKind { get; private set; }

    public string FromName { get; private set; }

    public string? FromNamespace { get; private set; }

    public TagSource From => new(FromKind, FromName, FromNamespace);

    /// <summary>Re-imported periodically in the background.</summary>
    public bool Scheduled { get; private set; }

    /// <summary>How often a scheduled tag asks to be checked; <c>null</c> for the default. Never below the admin minimum.</summary>
    public int? IntervalSeconds { get; private set; }

    /// <summary>Plain HTTP and unverified TLS allowed for this tag's source.</summary>
    public bool Insecure { get; private set; }

    public ImportMode ImportMode { get; private set; }

    public ReferencePolicy ReferencePolicy { get; private set; }

    /// <summary>
    /// Notes on the tag, e.g. <c>importer.image.openshift.io/prefer-arch</c> and <c>prefer-os</c>, which choose the
    /// platform a Legacy import keeps of a manifest list.
    /// </summary>
    public Dictionary<string, string> Annotations { get; private set; } = [];

    /// <summary>
    /// The id of the user who last set this spec (null for the dashboard itself). A tag that follows another namespace's
    /// tag is imported only while this user may still read that namespace.
    /// </summary>
    public string? SetBy { get; private set; }

    /// <summary>Whether the tag follows a tag of a namespace other than <paramref name="own"/>.</summary>
    public bool FollowsAnotherNamespace(string own) => FromKind == TagSourceKind.ImageStreamTag && FromNamespace is { } source && source != own;

    /// <summary>The stream generation at which this spec tag last changed; newer than its status means an import is due.</summary>
    public long Generation { get; private set; }

    internal void Update(TagSource from, bool scheduled, bool insecure, ImportMode importMode, ReferencePolicy referencePolicy, long generation,
        IReadOnlyDictionary<string, string>? annotations = null, int? intervalSeconds = null, string? setBy = null)
    {
        IntervalSeconds = intervalSeconds;
        SetBy = string.IsNullOrEmpty(setBy) ? null : setBy;
        if (annotations is not null)
        {
            Annotations = new Dictionary<string, string>(annotations);
        }

        FromKind = from.Kind;
        FromName = from.Name;
        FromNamespace = from.Namespace;
        Scheduled = scheduled;
        Insecure = insecure;
        ImportMode = importMode;
        ReferencePolicy = referencePolicy;
        Generation = generation;
    }

    internal string Describe() =>
        $"{Name} ← {From} ({(Scheduled ? "scheduled" : "manual")}{(Insecure ? ", insecure" : "")}, {ImportMode}, {ReferencePolicy})";
}
