using System.Text.RegularExpressions;

namespace Dashboard.Domain.ImageStreams;

/// <summary>
/// An image stream name is one path component of a registry repository (the dashboard serves
/// <c>namespace/stream</c> as a repository), so it follows the distribution spec's component rule.
/// </summary>
public static partial class ImageStreamName
{
    public const int MaxLength = 128;

    public static string? Validate(string? name) => name switch
    {
        null or "" => "A name is required.",
        { Length: > MaxLength } => $"An image stream name has at most {MaxLength} characters.",
        _ when !Pattern().IsMatch(name) => "Use lower-case letters and digits, separated by single '.', '_' or '-'.",
        _ => null,
    };

    [GeneratedRegex(@"^[a-z0-9]+(?:[._-][a-z0-9]+)*\z")]
    private static partial Regex Pattern();
}

/// <summary>A tag name, as the distribution spec allows it.</summary>
public static partial class TagName
{
    public const int MaxLength = 128;

    public static string? Validate(string? name) => name switch
    {
        null or "" => "A tag name is required.",
        { Length: > MaxLength } => $"A tag has at most {MaxLength} characters.",
        _ when !Pattern().IsMatch(name) => "Use letters, digits, '_', '.' and '-', not starting with '.' or '-'.",
        _ => null,
    };

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\z")]
    private static partial Regex Pattern();
}
