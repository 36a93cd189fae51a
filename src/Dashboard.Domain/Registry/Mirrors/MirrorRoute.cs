using System.Collections.Concurrent;

namespace Dashboard.Domain.Registry.Mirrors;

/// <summary>A place to ask and the namespace's credential for its host (null: anonymous; the source's comes from the target).</summary>
public sealed record RoutePlace(MirrorPlace Place, RegistryCredential? Credential);

/// <summary>
/// Where the calls of a target for one repository go when mirrors apply: the places by tag and by digest, each mirror
/// with the namespace's credential for its host, and which mirrors answered (for the tag's status). The route handler
/// asks them in order (docs/decisions/0016-registry-mirrors.md); one route per use of the namespace's credentials, so the
/// answers logged are that use's.
/// </summary>
public sealed class MirrorRoute(string repository, IReadOnlyList<RoutePlace> byTag, IReadOnlyList<RoutePlace> byDigest)
{
    private readonly ConcurrentQueue<MirrorPlace> _answered = new();

    /// <summary>The source repository the places are for; calls for another repository go to the target as they are.</summary>
    public string Repository { get; } = repository;

    public IReadOnlyList<RoutePlace> PlacesFor(bool digest) => digest ? byDigest : byTag;

    /// <summary>Names the places and credentials without revealing them: answers shared between uses are kept apart by it.</summary>
    public string Fingerprint => string.Join(",", byTag.Concat(byDigest).Select(p => $"{p.Place}|{p.Place.Insecure}|{p.Credential?.Fingerprint}"));

    internal void Answered(MirrorPlace place)
    {
        if (!_answered.Contains(place))
        {
            _answered.Enqueue(place);
        }
    }

    /// <summary>The mirrors that answered a call of this route, first first (none: the source answered every call).</summary>
    public IReadOnlyList<MirrorPlace> MirrorsThatAnswered => [.. _answered];
}
