using System.Collections.Concurrent;
using Dashboard.Domain.Images;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Registry.Mirrors;

namespace Dashboard.Domain.Import;

/// <summary>
/// What upstream answered a group of scheduled checks: tags in any namespace that follow the same upstream tag share one
/// <c>HEAD</c> per scheduled round, and one manifest <c>GET</c> when it changed. Answers are kept per credential and per
/// mirror route (its places and their credentials), so no namespace is ever answered with what another namespace's pull
/// secret fetched; a shared answer tells the tag's route which mirrors served it.
/// </summary>
public sealed class UpstreamHeads
{
    private readonly ConcurrentDictionary<string, (Digest Digest, IReadOnlyList<MirrorPlace> Mirrors)> _heads = new();
    private readonly ConcurrentDictionary<string, (ManifestResponse Manifest, IReadOnlyList<MirrorPlace> Mirrors)> _manifests = new();

    internal static string Key(RegistryTarget target, string repository, string reference) =>
        $"{target.Registry}/{repository}:{reference}|{target.Insecure}|{target.Credential?.Fingerprint ?? "anonymous"}|{target.Mirrors?.Fingerprint}";

    internal Digest? Get(string key, RegistryTarget target) => _heads.TryGetValue(key, out var head) ? Shared(head.Digest, head.Mirrors, target) : null;

    internal void Set(string key, Digest digest, RegistryTarget target) => _heads[key] = (digest, target.Mirrors?.MirrorsThatAnswered ?? []);

    internal ManifestResponse? GetManifest(string key, RegistryTarget target) =>
        _manifests.TryGetValue(key, out var manifest) ? Shared(manifest.Manifest, manifest.Mirrors, target) : null;

    internal void SetManifest(string key, ManifestResponse manifest, RegistryTarget target) =>
        _manifests[key] = (manifest, target.Mirrors?.MirrorsThatAnswered ?? []);

    private static T Shared<T>(T answer, IReadOnlyList<MirrorPlace> mirrors, RegistryTarget target)
    {
        foreach (var mirror in mirrors)
        {
            target.Mirrors?.Answered(mirror);
        }

        return answer;
    }
}
