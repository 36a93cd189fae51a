using System.Text.RegularExpressions;

namespace Dashboard.Domain.Namespaces;

/// <summary>A namespace name is a DNS-1123 label, as in Kubernetes: lower-case letters, digits and '-', at most 63.</summary>
public static partial class NamespaceName
{
    public const int MaxLength = 63;

    /// <returns>Why <paramref name="name"/> is not a valid namespace name, or <c>null</c> when it is.</returns>
    public static string? Validate(string? name) => name switch
    {
        null or "" => "A name is required.",
        { Length: > MaxLength } => $"A namespace name has at most {MaxLength} characters.",
        _ when !Pattern().IsMatch(name) => "Use lower-case letters, digits and '-', starting and ending with a letter or digit.",
        _ => null,
    };

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\z")]
    private static partial Regex Pattern();
}
