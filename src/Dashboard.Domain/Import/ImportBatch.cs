namespace Dashboard.Domain.Import;

/// <summary>A tag to import: namespace, stream and tag.</summary>
public readonly record struct TagKey(string Namespace, string Stream, string Tag)
{
    public override string ToString() => $"{Namespace}/{Stream}:{Tag}";
}

/// <summary>How <see cref="ImageImporter.ImportTagsAsync"/> imports a batch of tags.</summary>
public sealed class ImportBatch
{
    /// <summary>
    /// Upstream answers shared by the batch's tags (scheduled checks of tags that follow one upstream tag). Given only by
    /// scheduled checks, which plan their own next check; without it the imports are manual ones.
    /// </summary>
    public UpstreamHeads? Heads { get; init; }

    /// <summary>How many tags are fetched at a time (the registry client still holds each registry to its bounds).</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>
    /// Told when a tag's fetch starts (no outcome yet; from the fetching threads, so possibly at once for several tags)
    /// and when its import is saved (its outcome; one at a time).
    /// </summary>
    public Func<TagKey, ImportOutcome?, Task>? Progress { get; init; }
}
