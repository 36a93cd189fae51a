namespace Dashboard.Domain.Images;

/// <summary>
/// An image's metadata, shared by digest across all streams and namespaces that point at it
/// (OpenShift's cluster-scoped <c>Image</c>).
/// </summary>
public sealed class Image
{
    private Image()
    {
        Digest = "";
        DockerImageReference = "";
        MediaType = "";
        Config = new ImageConfig();
    }

    public Image(Digest digest, ImageReference dockerImageReference, string mediaType, long size,
        IEnumerable<ImageLayer> layers, ImageConfig config, IEnumerable<ChildManifest> manifests)
    {
        Digest = digest.ToString();
        DockerImageReference = dockerImageReference.WithDigest(digest).ToString();
        MediaType = mediaType;
        Size = size;
        Layers = [.. layers];
        Config = config;
        Manifests = [.. manifests];
    }

    /// <summary>sha256 of the manifest bytes; the image's identity.</summary>
    public string Digest { get; private set; }

    /// <summary>Where the image was first imported from, pinned by digest.</summary>
    public string DockerImageReference { get; private set; }

    public string MediaType { get; private set; }

    /// <summary>Bytes to pull: the layers and the config together (for a manifest list, its children's sizes).</summary>
    public long Size { get; private set; }

    public IReadOnlyList<ImageLayer> Layers { get; private set; } = [];

    public ImageConfig Config { get; private set; }

    /// <summary>The platform manifests of a manifest list or OCI index; empty for a single image.</summary>
    public IReadOnlyList<ChildManifest> Manifests { get; private set; } = [];

    /// <summary>Notes set by people or scanners, e.g. <c>images.openshift.io/deny-execution</c>.</summary>
    public Dictionary<string, string> Annotations { get; private set; } = [];

    public void ReplaceAnnotations(IReadOnlyDictionary<string, string> annotations) =>
        Annotations = new Dictionary<string, string>(annotations);
}

public sealed record ImageLayer(string Digest, long Size, string MediaType);

public sealed record Platform(string Architecture, string Os, string? Variant)
{
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}

public sealed record ChildManifest(string Digest, string MediaType, long Size, Platform Platform);

/// <summary>What the image config says about the image.</summary>
public sealed class ImageConfig
{
    public DateTime? Created { get; init; }

    public string? Architecture { get; init; }

    public string? Os { get; init; }

    public string? Variant { get; init; }

    public Dictionary<string, string> Labels { get; init; } = [];
}
