using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Dashboard.Domain.Images;

/// <summary>
/// A reference to an image in a registry: <c>registry/repository[:tag][@digest]</c>, normalized the way the
/// Docker CLI does it (distribution's <c>reference/normalize.go</c>) so that aliases compare equal:
/// <c>mysql</c>, <c>docker.io/mysql</c>, <c>index.docker.io/library/mysql:latest</c> and
/// <c>registry-1.docker.io/library/mysql</c> are all <c>docker.io/library/mysql:latest</c>.
/// </summary>
public sealed partial record ImageReference
{
    /// <summary>The canonical Docker Hub host name.</summary>
    public const string DockerHub = "docker.io";

    /// <summary>Longest repository path the distribution spec allows.</summary>
    public const int MaxRepositoryLength = 255;

    /// <summary>Longest tag the distribution spec allows.</summary>
    public const int MaxTagLength = 128;

    /// <summary>Longest printed reference: host (253 + port) / repository : tag @ digest.</summary>
    public const int MaxLength = 260 + 1 + MaxRepositoryLength + 1 + MaxTagLength + 1 + Digest.MaxLength;

    private static readonly HashSet<string> DockerHubAliases =
        new(StringComparer.OrdinalIgnoreCase) { "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" };

    private ImageReference(string registry, string repository, string? tag, Digest? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>Host and optional port, lower case; <c>docker.io</c> for Docker Hub.</summary>
    public string Registry { get; }

    /// <summary>The path after the registry, e.g. <c>library/mysql</c>.</summary>
    public string Repository { get; }

    /// <summary>The tag; <c>latest</c> when neither a tag nor a digest was given, <c>null</c> for a digest-only reference.</summary>
    public string? Tag { get; }

    public Digest? Digest { get; }

    public bool IsDockerHub => Registry == DockerHub;

    /// <summary>The short form people type: <c>mysql:8</c> for Docker Hub's library images, the full form otherwise.</summary>
    public string FamiliarName
    {
        get
        {
            var name = IsDockerHub
                ? Repository.StartsWith("library/", StringComparison.Ordinal) && Repository.IndexOf('/', 8) < 0 ? Repository[8..] : Repository
                : $"{Registry}/{Repository}";
            return name + Suffix;
        }
    }

    private string Suffix => (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    public static ImageReference Parse(string value) =>
        TryParse(value, out var reference, out var error) ? reference : throw new FormatException(error);

    public static bool TryParse(string? value, [NotNullWhen(true)] out ImageReference? reference, [NotNullWhen(false)] out string? error)
    {
        reference = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "An image reference is required.";
            return false;
        }

        if (value.Length > MaxLength)
        {
            error = $"An image reference has at most {MaxLength} characters.";
            return false;
        }

        if (value.Any(char.IsWhiteSpace))
        {
            error = "An image reference contains no spaces.";
            return false;
        }

        var rest = value;
        Digest? digest = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            if (!Digest.TryParse(rest[(at + 1)..], out digest, out error))
            {
                return false;
            }

            rest = rest[..at];
        }

        string? tag = null;
        var lastColon = rest.LastIndexOf(':');
        if (lastColon > rest.LastIndexOf('/'))
        {
            tag = rest[(lastColon + 1)..];
            rest = rest[..lastColon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"Tag '{tag}' is not valid: up to {MaxTagLength} letters, digits, '_', '.' or '-', not starting with '.' or '-'.";
                return false;
            }
        }

        string registry;
        string repository;
        var slash = rest.IndexOf('/');
        var first = slash < 0 ? rest : rest[..slash];
        if (slash > 0 && NamesRegistry(first))
        {
            registry = first.ToLowerInvariant();
            repository = rest[(slash + 1)..];
            var portAt = registry.LastIndexOf(':');
            if (!HostPattern().IsMatch(registry)
                || (portAt > registry.LastIndexOf(']') && (!int.TryParse(registry[(portAt + 1)..], out var port) || port is < 1 or > 65535)))
            {
                error = $"Registry '{first}' is not a valid host[:port] (ports are 1 to 65535).";
                return false;
            }
        }
        else
        {
            registry = DockerHub;
            repository = rest;
        }

        if (repository.Length == 0)
        {
            error = "The repository name is missing.";
            return false;
        }

        if (DockerHubAliases.Contains(registry))
        {
            registry = DockerHub;
        }

        if (registry == DockerHub && !repository.Contains('/'))
        {
            repository = "library/" + repository;
        }

        if (repository.Length > MaxRepositoryLength)
        {
            error = $"A repository name has at most {MaxRepositoryLength} characters.";
            return false;
        }

        if (!RepositoryPattern().IsMatch(repository))
        {
            error = $"Repository '{repository}' is not valid: lower-case path components of letters and digits separated by '.', '_', '__' or '-'.";
            return false;
        }

        reference = new ImageReference(registry, repository, tag ?? (digest is null ? "latest" : null), digest);
        error = null;
        return true;
    }

    /// <summary>
    /// Whether the first path component of a reference is a registry host rather than a repository component, by the
    /// Docker CLI's rule: it has a '.' or a ':', is <c>localhost</c>, or is a bracketed IPv6 address.
    /// </summary>
    public static bool NamesRegistry(string firstComponent) =>
        firstComponent.Contains('.') || firstComponent.Contains(':') || firstComponent == "localhost" || firstComponent.StartsWith('[');

    /// <summary>The same image without its tag, pinned to <paramref name="digest"/>.</summary>
    public ImageReference WithDigest(Digest digest) => new(Registry, Repository, null, digest);

    /// <summary>The full, canonical form; <see cref="Parse"/> of it gives back an equal reference.</summary>
    public override string ToString() => $"{Registry}/{Repository}{Suffix}";

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(?:(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])(?:\.(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9]))*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$")]
    private static partial Regex HostPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();
}
