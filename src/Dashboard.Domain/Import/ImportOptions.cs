using System.ComponentModel.DataAnnotations;

namespace Dashboard.Domain.Import;

/// <summary>The <c>Dashboard:Import</c> settings that bound imports.</summary>
public sealed class ImportOptions
{
    public const string Section = "Dashboard:Import";

    /// <summary>How many tags a repository import takes when the request does not say (OpenShift's <c>maxImagesBulkImportedPerRepository</c>).</summary>
    [Range(1, 100_000)]
    public int MaxTagsPerRepository { get; set; } = 50;

    /// <summary>The most a repository import takes even when asked for all (<c>maxTags: -1</c>).</summary>
    [Range(1, 100_000)]
    public int MaxTagsCap { get; set; } = 1000;

    /// <summary>
    /// The most tag names a repository import reads from a registry's tag list. Priority order needs the whole list, so
    /// this bounds the listing itself (names past it are not read), not the tags imported.
    /// </summary>
    [Range(100, 1_000_000)]
    public int MaxListedTags { get; set; } = 10_000;
}
