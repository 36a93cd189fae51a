namespace Dashboard.Domain.Policy;

/// <summary>
/// The console's "try it": image references one per line, or manifests as YAML (several documents, a <c>List</c>: a whole
/// release) or JSON, each object judged as admission would judge it.
/// </summary>
public static class PolicyTrial
{
    public const int MaxInputLength = 256 * 1024;

    /// <summary>The references the input names, or else the objects it holds (see <see cref="ManifestReader"/>).</summary>
    public static (IReadOnlyList<CheckedImage> References, IReadOnlyList<Manifest> Objects) Read(string? input)
    {
        input = input?.Trim();
        if (string.IsNullOrEmpty(input))
        {
            throw new ValidationFailedException("input", "Paste image references (one per line) or manifests.");
        }

        if (input.Length > MaxInputLength)
        {
            throw new ValidationFailedException("input", $"At most {MaxInputLength / 1024} KiB.");
        }

        var lines = input.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var isManifest = input.StartsWith('{') || lines.Any(l => l.StartsWith("kind:", StringComparison.Ordinal) || l.StartsWith("apiVersion:", StringComparison.Ordinal));
        if (!isManifest)
        {
            return ([.. lines.Where(l => !l.StartsWith('#')).Select(l => new CheckedImage(l))], []);
        }

        var objects = ManifestReader.Read(input, "input");
        return objects.Count == 0 ? throw new ValidationFailedException("input", "The manifests hold no object.") : ([], objects);
    }
}
