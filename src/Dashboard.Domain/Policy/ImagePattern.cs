namespace Dashboard.Domain.Policy;

/// <summary>
/// An anchored pattern over one part of an image reference: <c>*</c> matches within one segment (a DNS label of a
/// registry host, a path component of a repository), <c>**</c> across segments, everything else literally. A pattern
/// always matches a whole value, never a part of one, so <c>library/mysql</c> does not match <c>library/mysql-evil</c>.
/// </summary>
public sealed class ImagePattern
{
    public const int MaxLength = 255;

    private readonly Glob _glob;

    private ImagePattern(string text, Glob glob)
    {
        Text = text;
        _glob = glob;
    }

    public string Text { get; }

    public bool Matches(string value) => _glob.IsMatch(value);

    /// <summary>What every match starts with (lower-case for registries), for <see cref="PatternIndex"/>.</summary>
    internal string LiteralPrefix => _glob.LiteralPrefix;

    /// <summary>What every match ends with (lower-case for registries).</summary>
    internal string LiteralSuffix => _glob.LiteralSuffix;

    public override string ToString() => Text;

    /// <summary>Registry hosts: <c>host[:port]</c>, case-insensitive; <c>*</c> stays within a label (between dots).</summary>
    public static bool TryRegistry(string? text, out ImagePattern? pattern, out string? error) =>
        TryCompile(text, separators: ".:/", allowed: "abcdefghijklmnopqrstuvwxyz0123456789.-:[]", ignoreCase: true, out pattern, out error,
            "a host[:port] of letters, digits, '.', '-' and ':'");

    /// <summary>Repositories: the path after the registry, e.g. <c>library/mysql</c>, <c>team-a/*</c>, <c>team-a/**</c>.</summary>
    public static bool TryRepository(string? text, out ImagePattern? pattern, out string? error) =>
        TryCompile(text, separators: "/", allowed: "abcdefghijklmnopqrstuvwxyz0123456789._-/", ignoreCase: false, out pattern, out error,
            "lower-case path components of letters, digits, '.', '_' and '-' separated by '/'");

    /// <summary>Tags: <c>latest</c>, <c>v1.*</c>; a tag has no segments, so <c>*</c> and <c>**</c> both match any run.</summary>
    public static bool TryTag(string? text, out ImagePattern? pattern, out string? error) =>
        TryCompile(text, separators: "", allowed: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", ignoreCase: false, out pattern,
            out error, "letters, digits, '.', '_' and '-'");

    private static bool TryCompile(string? text, string separators, string allowed, bool ignoreCase, out ImagePattern? pattern, out string? error,
        string describe)
    {
        pattern = null;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "A pattern may not be empty.";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"A pattern has at most {MaxLength} characters.";
            return false;
        }

        if (text.FirstOrDefault(c => c != '*' && !allowed.Contains(ignoreCase ? char.ToLowerInvariant(c) : c)) is var bad and not '\0')
        {
            error = $"'{text}' has '{bad}', which cannot be in it: use {describe}, with '*' or '**'.";
            return false;
        }

        if (text.Contains("***", StringComparison.Ordinal))
        {
            error = $"'{text}' has '***': use '*' within a segment or '**' across segments.";
            return false;
        }

        pattern = new ImagePattern(text, Glob.Parse(text, separators, ignoreCase));
        error = null;
        return true;
    }
}
