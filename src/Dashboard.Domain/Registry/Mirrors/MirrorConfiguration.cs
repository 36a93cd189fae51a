using System.Text.Json.Serialization;
using Dashboard.Domain.Images;

namespace Dashboard.Domain.Registry.Mirrors;

/// <summary>Whether the source is asked after its mirrors failed (OpenShift's <c>mirrorSourcePolicy</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MirrorSourcePolicy>))]
public enum MirrorSourcePolicy
{
    AllowContactingSource,
    NeverContactSource,
}

/// <summary>
/// One entry of <c>imageDigestMirrors</c> or <c>imageTagMirrors</c>, with OpenShift's field names (config.openshift.io/v1
/// ImageDigestMirrorSet / ImageTagMirrorSet): a source prefix, its mirrors in the order they are tried, and whether the
/// source is asked after them.
/// </summary>
public sealed record MirrorSet(string Source, IReadOnlyList<string> Mirrors,
    MirrorSourcePolicy MirrorSourcePolicy = MirrorSourcePolicy.AllowContactingSource);

/// <summary>
/// The registry mirrors in force, as <c>GET/PUT /api/v1/mirrors</c> carries them: digest mirrors, tag mirrors, and the
/// mirror hosts reached over plain HTTP. How a reference resolves to the places tried:
/// docs/decisions/0016-registry-mirrors.md.
/// </summary>
public sealed record MirrorConfiguration(IReadOnlyList<MirrorSet> ImageDigestMirrors, IReadOnlyList<MirrorSet> ImageTagMirrors,
    IReadOnlyList<string> InsecureRegistries)
{
    public const int MaxSets = 100;
    public const int MaxMirrorsPerSet = 10;
    public const int MaxInsecureRegistries = 100;

    /// <summary>A source or mirror: a host and a repository prefix, at most this long.</summary>
    public const int MaxLocationLength = 260 + 1 + ImageReference.MaxRepositoryLength;

    public static readonly MirrorConfiguration Empty = new([], [], []);

    /// <summary>
    /// The places to ask for <paramref name="repository"/> of <paramref name="registry"/>, in order: the mirrors of the
    /// longest source that is a whole-segment prefix of the reference (entries naming that same source merged in document
    /// order, a mirror named twice asked once), then the source itself unless one of those entries says
    /// <c>NeverContactSource</c>. A reference no source matches has one place, the source. By digest the digest mirrors
    /// apply, by tag the tag mirrors. Reads the canonical form <see cref="Validate"/> returns (asked on every registry call
    /// of an image: no parsing here).
    /// </summary>
    public IReadOnlyList<MirrorPlace> PlacesFor(string registry, string repository, bool byDigest)
    {
        var sets = byDigest ? ImageDigestMirrors : ImageTagMirrors;
        var source = new MirrorPlace(registry, repository, IsMirror: false, Insecure: false);
        var matching = sets.Select(s => (Set: s, Location: MirrorLocation.OfCanonical(s.Source)))
            .Where(s => s.Location.Covers(registry, repository))
            .ToList();
        if (matching.Count == 0)
        {
            return [source];
        }

        var longest = matching.Max(s => s.Location.Path.Length);
        var chosen = matching.Where(s => s.Location.Path.Length == longest).ToList();
        var prefix = chosen[0].Location;
        var places = chosen.SelectMany(s => s.Set.Mirrors)
            .Select(m => MirrorLocation.OfCanonical(m).Rewrite(prefix, repository))
            .OfType<(string Registry, string Repository)>()
            .Distinct()
            .Select(m => new MirrorPlace(m.Registry, m.Repository, IsMirror: true, IsInsecure(m.Registry)))
            .ToList();
        if (chosen.All(s => s.Set.MirrorSourcePolicy != MirrorSourcePolicy.NeverContactSource))
        {
            places.Add(source);
        }

        return places;
    }

    private bool IsInsecure(string host) => InsecureRegistries.Any(h => h.Equals(host, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Checks the whole document: each field's errors under its JSON path (<c>imageDigestMirrors[1].mirrors[0]</c>), so a
    /// bad entry is named and nothing is stored. Returns the document with its locations in canonical form.
    /// </summary>
    public static MirrorConfiguration Validate(MirrorConfiguration? document)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (document is null)
        {
            throw new ValidationFailedException("", "Send the mirrors document: {\"imageDigestMirrors\":[…],\"imageTagMirrors\":[…],\"insecureRegistries\":[…]}.");
        }

        var digest = ValidateSets("imageDigestMirrors", document.ImageDigestMirrors, errors);
        var tag = ValidateSets("imageTagMirrors", document.ImageTagMirrors, errors);
        var insecure = new List<string>();
        var hosts = document.InsecureRegistries ?? [];
        if (hosts.Count > MaxInsecureRegistries)
        {
            errors["insecureRegistries"] = [$"List at most {MaxInsecureRegistries} hosts."];
        }

        for (var i = 0; i < Math.Min(hosts.Count, MaxInsecureRegistries); i++)
        {
            if (MirrorLocation.Parse(hosts[i]) is { Path: "" } host)
            {
                insecure.Add(host.Registry);
            }
            else
            {
                errors[$"insecureRegistries[{i}]"] = [$"'{Shorten(hosts[i])}' is not a registry host (host or host:port, as in image references)."];
            }
        }

        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }

        return new MirrorConfiguration(digest, tag, [.. insecure.Distinct(StringComparer.Ordinal)]);
    }

    private static List<MirrorSet> ValidateSets(string field, IReadOnlyList<MirrorSet>? sets, Dictionary<string, string[]> errors)
    {
        var valid = new List<MirrorSet>();
        if (sets is null)
        {
            return valid;
        }

        if (sets.Count > MaxSets)
        {
            errors[field] = [$"List at most {MaxSets} entries."];
            return valid;
        }

        for (var i = 0; i < sets.Count; i++)
        {
            var path = $"{field}[{i}]";
            if (sets[i] is not { } set)
            {
                errors[path] = ["An entry is an object with source and mirrors."];
                continue;
            }

            var source = MirrorLocation.Parse(set.Source);
            if (source is null)
            {
                errors[$"{path}.source"] = [$"'{Shorten(set.Source)}' is not a registry host or host/repository prefix (as in image references, without tag or digest)."];
            }

            if (!Enum.IsDefined(set.MirrorSourcePolicy))
            {
                errors[$"{path}.mirrorSourcePolicy"] = ["Use AllowContactingSource or NeverContactSource."];
            }

            var mirrors = set.Mirrors ?? [];
            if (mirrors.Count is 0 or > MaxMirrorsPerSet)
            {
                errors[$"{path}.mirrors"] = [$"List 1 to {MaxMirrorsPerSet} mirrors."];
                continue;
            }

            var canonical = new List<string>();
            for (var j = 0; j < mirrors.Count; j++)
            {
                var mirror = MirrorLocation.Parse(mirrors[j]);
                if (mirror is null)
                {
                    errors[$"{path}.mirrors[{j}]"] = [$"'{Shorten(mirrors[j])}' is not a registry host or host/repository (as in image references, without tag or digest)."];
                }
                else if (canonical.Contains(mirror.ToString()))
                {
                    errors[$"{path}.mirrors[{j}]"] = [$"'{mirror}' is listed twice."];
                }
                else if (mirror.ToString() == source?.ToString())
                {
                    errors[$"{path}.mirrors[{j}]"] = [$"'{mirror}' is the source itself."];
                }
                else
                {
                    canonical.Add(mirror.ToString());
                }
            }

            if (source is not null && canonical.Count == mirrors.Count)
            {
                valid.Add(new MirrorSet(source.ToString(), canonical, set.MirrorSourcePolicy));
            }
        }

        return valid;
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 80 ? text : text[..79] + "…";
}

/// <summary>
/// A place to ask for an image: a registry host and the repository there. The source itself, or a mirror (reached over
/// plain HTTP or unchecked TLS when <c>insecureRegistries</c> lists its host).
/// </summary>
public sealed record MirrorPlace(string Registry, string Repository, bool IsMirror, bool Insecure)
{
    public override string ToString() => $"{Registry}/{Repository}";
}

/// <summary>A source or mirror location: a registry host (canonical, Docker Hub as <c>docker.io</c>) and a repository prefix, maybe empty.</summary>
public sealed record MirrorLocation(string Registry, string Path)
{
    /// <summary>Parses <c>host[:port][/repository/prefix]</c>; null when it is not one (no host, a tag, a digest, a bad component).</summary>
    public static MirrorLocation? Parse(string? text)
    {
        text = text?.Trim();
        if (string.IsNullOrEmpty(text) || text.Length > MirrorConfiguration.MaxLocationLength || text.Contains('@'))
        {
            return null;
        }

        var slash = text.IndexOf('/');
        var host = slash < 0 ? text : text[..slash];
        var path = slash < 0 ? "" : text[(slash + 1)..].TrimEnd('/');
        if (!ImageReference.NamesRegistry(host) || !ImageReference.TryParse($"{host}/x", out var hostOnly, out _) || hostOnly.Repository != "x"
            && !(hostOnly.IsDockerHub && hostOnly.Repository == "library/x"))
        {
            return null;
        }

        if (path.Length == 0)
        {
            return new MirrorLocation(hostOnly.Registry, "");
        }

        // The prefix is checked as a repository with one more component, so Docker Hub's "library/" rule does not apply to it.
        return ImageReference.TryParse($"{host}/{path}/x", out var withPath, out _) && withPath.Repository == $"{path}/x" && withPath.Tag == "latest"
            ? new MirrorLocation(withPath.Registry, path)
            : null;
    }

    /// <summary>A location as <see cref="MirrorConfiguration.Validate"/> wrote it (host, then the path after the first '/').</summary>
    public static MirrorLocation OfCanonical(string canonical) =>
        canonical.IndexOf('/') is var slash and > 0 ? new MirrorLocation(canonical[..slash], canonical[(slash + 1)..]) : new MirrorLocation(canonical, "");

    /// <summary>Whether this source covers the repository: same host, and the prefix is the repository or its leading whole segments.</summary>
    public bool Covers(string registry, string repository) =>
        Registry.Equals(registry, StringComparison.OrdinalIgnoreCase)
        && (Path.Length == 0 || repository == Path || repository.StartsWith(Path + "/", StringComparison.Ordinal));

    /// <summary>The repository at this mirror for <paramref name="repository"/> under <paramref name="source"/>; null when that names no repository.</summary>
    public (string Registry, string Repository)? Rewrite(MirrorLocation source, string repository)
    {
        var rest = repository[source.Path.Length..].TrimStart('/');
        var mirrored = Path.Length == 0 ? rest : rest.Length == 0 ? Path : $"{Path}/{rest}";
        if (mirrored.Length == 0 || mirrored.Length > ImageReference.MaxRepositoryLength)
        {
            return null;
        }

        // Docker Hub names one-segment repositories under library/, as a reference to it would.
        return (Registry, Registry == ImageReference.DockerHub && !mirrored.Contains('/') ? "library/" + mirrored : mirrored);
    }

    public override string ToString() => Path.Length == 0 ? Registry : $"{Registry}/{Path}";
}
