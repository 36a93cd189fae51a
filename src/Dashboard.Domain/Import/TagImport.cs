using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Access;

namespace Dashboard.Domain.Import;

/// <summary>
/// <c>oc tag</c>, the one use case behind the tag API and the console's tag editor: the spec tag is saved, then imported
/// at once. A refused spec changes nothing (<see cref="ValidationFailedException"/>); a failed import keeps the saved tag
/// and its outcome says why.
/// </summary>
public sealed class TagImport(ImageStreamService streams, ImageImporter importer)
{
    public async Task<ImportOutcome> SetAndImportAsync(Caller caller, string @namespace, string stream, TagSpec spec, CancellationToken ct = default)
    {
        await streams.SetTagAsync(caller, @namespace, stream, spec, ct);
        return await importer.ImportTagAsync(caller, @namespace, stream, spec.Name, ct);
    }
}
