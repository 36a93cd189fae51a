using System.Collections.Concurrent;
using Dashboard.Domain.Images;
using Dashboard.Domain.Registry;

namespace Dashboard.Domain.Import;

/// <summary>
/// What upstream answered a group of scheduled checks: tags in any namespace that follow the same upstream tag share one
/// <c>HEAD</c> per scheduled round, and one manifest <c>GET</c> when it changed. Answers are kept per credential, so no
/// namespace is ever answered with what another namespace's pull secret fetched.
/// </summary>
public sealed class UpstreamHeads
{
    private readonly ConcurrentDictionary<string, Digest> _heads = new();
    private readonly ConcurrentDictionary<string, ManifestResponse> _manifests = new();

    internal static string Key(RegistryTarget target, string repository, string reference) =>
        $"{target.Registry}/{repository}:{reference}|{target.Insecure}|{target.Credential?.Fingerprint ?? "anonymous"}";

    internal Digest? Get(string key) => _heads.TryGetValue(key, out var digest) ? digest : null;

    internal void Set(string key, Digest digest) => _heads[key] = digest;

    internal ManifestResponse? GetManifest(string key) => _manifests.TryGetValue(key, out var manifest) ? manifest : null;

    internal void SetManifest(string key, ManifestResponse manifest) => _manifests[key] = manifest;
}
