using Dashboard.Domain.Images;

namespace Dashboard.Domain.ImageStreams;

/// <summary>What recording an import into a stream raised. Not stored: the handlers of the import react to it.</summary>
public abstract record TagImportEvent(ImageStream Stream, string Tag, DateTime At);

/// <summary>The tag's import succeeded; <paramref name="Changed"/> when the tag now points at another image.</summary>
public sealed record TagImported(ImageStream Stream, string Tag, DateTime At, Digest Image, bool Changed, string Note) : TagImportEvent(Stream, Tag, At);

/// <summary>The tag points at a new image: <paramref name="Entry"/> is its new history entry, taken from <paramref name="Source"/>.</summary>
public sealed record TagChanged(ImageStream Stream, string Tag, DateTime At, TagEvent Entry, string? PreviousImage, ImageReference Source)
    : TagImportEvent(Stream, Tag, At);

/// <summary>The tag's import failed; the tag keeps its image.</summary>
public sealed record TagImportFailed(ImageStream Stream, string Tag, DateTime At, string Reason, string Message) : TagImportEvent(Stream, Tag, At);
