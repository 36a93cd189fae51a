using Dashboard.Domain.Images;
using Dashboard.Domain.Registry;

namespace Dashboard.Domain.PullSecrets;

/// <summary>A credential that matched an image, and where it came from (for "test credentials" and error messages).</summary>
public sealed record KeyringMatch(string Secret, string Key, RegistryCredential Credential);

/// <summary>
/// Which pull secret entry authenticates which image, by the Kubernetes keyring rules OpenShift's importer uses
/// (k8s.io/kubernetes/pkg/credentialprovider): keys lose their scheme and a <c>/v1/</c> or <c>/v2/</c> path; the port
/// must be equal; the host must have as many labels as the key, each matched as a glob (<c>*.example.com</c>); the key's
/// path must be a prefix of the repository; more specific keys are tried first. All Docker Hub spellings match Docker Hub
/// images — including <c>registry-1.docker.io</c>, which OpenShift misses.
/// </summary>
public static class Keyring
{
    private static readonly HashSet<string> DockerHubHosts =
        new(StringComparer.OrdinalIgnoreCase) { "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" };

    public static IReadOnlyList<KeyringMatch> Match(ImageReference image, IEnumerable<(string Secret, DockerConfigEntry Entry)> entries) =>
        [.. entries
            .Select(e => (e.Secret, e.Entry, Key: Normalize(e.Entry.Key)))
            .Where(e => e.Key is not null && Matches(e.Key.Value, image))
            .OrderByDescending(e => e.Key!.Value.Path.Length)
            .ThenByDescending(e => e.Key!.Value.Host.Count(c => c != '*'))
            .Select(e => new KeyringMatch(e.Secret, e.Entry.Key, e.Entry.Credential))];

    /// <summary>A key as host[:port] and path, lower-case, without scheme and without the legacy <c>/v1/</c> or <c>/v2/</c>.</summary>
    internal static (string Host, string? Port, string Path)? Normalize(string key)
    {
        var text = key.Trim();
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            text = text[(scheme + 3)..];
        }

        var slash = text.IndexOf('/');
        var authority = (slash < 0 ? text : text[..slash]).ToLowerInvariant();
        var path = slash < 0 ? "" : text[(slash + 1)..].Trim('/');
        if (path is "v1" or "v2" || path.StartsWith("v1/", StringComparison.Ordinal) || path.StartsWith("v2/", StringComparison.Ordinal))
        {
            path = "";
        }

        var colon = authority.LastIndexOf(':');
        var host = colon > 0 && !authority.EndsWith(']') ? authority[..colon] : authority;
        var port = colon > 0 && !authority.EndsWith(']') ? authority[(colon + 1)..] : null;
        return host.Length == 0 ? null : (host, port, path);
    }

    private static bool Matches((string Host, string? Port, string Path) key, ImageReference image)
    {
        var colon = image.Registry.LastIndexOf(':');
        var imageHost = colon > 0 && !image.Registry.EndsWith(']') ? image.Registry[..colon] : image.Registry;
        var imagePort = colon > 0 && !image.Registry.EndsWith(']') ? image.Registry[(colon + 1)..] : null;
        if (image.IsDockerHub)
        {
            return DockerHubHosts.Contains(key.Host) && key.Port is null && PathMatches(key.Path, image.Repository);
        }

        if (key.Port != imagePort)
        {
            return false;
        }

        var keyLabels = key.Host.Split('.');
        var hostLabels = imageHost.Split('.');
        return keyLabels.Length == hostLabels.Length
            && keyLabels.Zip(hostLabels).All(pair => Glob(pair.First, pair.Second))
            && PathMatches(key.Path, image.Repository);
    }

    private static bool PathMatches(string keyPath, string repository) =>
        keyPath.Length == 0 || repository == keyPath || repository.StartsWith(keyPath + "/", StringComparison.Ordinal);

    /// <summary>A label glob: <c>*</c> matches any run of characters within the label (the product's one matcher).</summary>
    private static bool Glob(string pattern, string label) => Domain.Glob.Parse(pattern).IsMatch(label);
}
