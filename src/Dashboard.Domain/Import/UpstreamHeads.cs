using System.Collections.Concurrent;
using Dashboard.Domain.Images;

namespace Dashboard.Domain.Import;

/// <summary>
/// The digests upstream tags had when a group of checks asked: tags in any namespace that follow the same upstream
/// tag share one <c>HEAD</c> per scheduled round.
/// </summary>
public sealed class UpstreamHeads
{
    private readonly ConcurrentDictionary<string, Digest> _heads = new();

    internal Digest? Get(string key) => _heads.TryGetValue(key, out var digest) ? digest : null;

    internal void Set(string key, Digest digest) => _heads[key] = digest;
}
