using System.Collections.Concurrent;
using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Images;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Registry.Mirrors;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.PullSecrets;

/// <summary>
/// One credential tried for an image: which secret and entry, whether the registry took it, what it said, and whether it
/// is the one imports use (the first accepted, in the order <see cref="PullSecretService.WithCredentialsAsync{T}"/> tries).
/// </summary>
public sealed record CredentialTest(string Secret, string Registry, string Username, bool Accepted, string Message, bool UsedByImports = false);

/// <summary>
/// What a call with a namespace's credentials returned, which pull secret entry answered (<c>null</c>: anonymous access),
/// and the mirrors that served its calls (none: the source did).
/// </summary>
public sealed record CredentialAnswer<T>(T Value, KeyringMatch? Entry, IReadOnlyList<MirrorPlace> Mirrors);

/// <summary>The pull secrets of one batch of imports, read once per namespace; the secrets' use, recorded at the end.</summary>
public sealed class CredentialBatch
{
    internal ConcurrentDictionary<int, Task<IReadOnlyList<(string Secret, DockerConfigEntry Entry)>>> Entries { get; } = new();

    internal ConcurrentDictionary<(int NamespaceId, string Secret), (DateTime At, string Result)> Uses { get; } = new();
}

public sealed record PullSecretInfo(string Name, IReadOnlyList<PullSecretEntry> Entries, DateTime CreatedAt, DateTime? LastUsedAt, string? LastResult);

/// <summary>
/// A namespace's pull secrets: written by Editors, read back only as names, registries and users. The documents are
/// encrypted before they are stored and decrypted only to authenticate an import.
/// </summary>
public sealed class PullSecretService(IDbContextFactory<DashboardDbContext> contexts, ISecretProtector protector, RegistryClient registry, MirrorStore mirrors,
    TimeProvider clock)
{
    /// <summary>
    /// "Test credentials": which of the namespace's entries match <paramref name="image"/>, most specific (the one an
    /// import uses) first, and whether the registry accepts each (a manifest HEAD, which pulls nothing).
    /// </summary>
    public async Task<IReadOnlyList<CredentialTest>> TestAsync(Caller caller, string @namespace, string? image, bool insecure, CancellationToken ct = default)
    {
        int namespaceId;
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            // Editors only: a test uses the secrets, as an import does.
            namespaceId = (await db.RequireNamespaceAsync(caller, @namespace, write: true, ct)).Id;
        }

        if (!ImageReference.TryParse(image?.Trim(), out var reference, out var error))
        {
            throw new ValidationFailedException("image", error);
        }

        var results = new List<CredentialTest>();
        foreach (var match in Keyring.Match(reference, await EntriesAsync(namespaceId, null, ct)))
        {
            try
            {
                await registry.HeadManifestAsync(new RegistryTarget(reference.Registry, insecure, match.Credential), reference.Repository,
                    reference.Digest?.ToString() ?? reference.Tag!, ct);
                results.Add(new CredentialTest(match.Secret, match.Key, match.Credential.Username, true, $"{reference.Registry} accepted them.",
                    UsedByImports: !results.Any(r => r.UsedByImports)));
            }
            catch (RegistryException e)
            {
                // A 404 comes after the login succeeded (registries answer 401 first); anything else says nothing about the credentials.
                results.Add(new CredentialTest(match.Secret, match.Key, match.Credential.Username, e.Reason == RegistryFailure.NotFound, e.Message));
            }
        }

        return results;
    }

    public async Task<IReadOnlyList<PullSecretInfo>> ListAsync(Caller caller, string @namespace, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: false, ct);
        var secrets = await db.PullSecrets.AsNoTracking().Where(s => s.NamespaceId == ns.Id).OrderBy(s => s.Name).ToListAsync(ct);
        return [.. secrets.Select(Info)];
    }

    public async Task<PullSecretInfo> GetAsync(Caller caller, string @namespace, string name, CancellationToken ct = default) =>
        (await ListAsync(caller, @namespace, ct)).FirstOrDefault(s => s.Name == name)
        ?? throw new NotFoundException($"Namespace '{@namespace}' has no pull secret '{name}'.");

    /// <summary>Creates or replaces a secret from a <c>.dockerconfigjson</c> or <c>.dockercfg</c> document.</summary>
    public Task<PullSecretInfo> PutAsync(Caller caller, string @namespace, string? name, string? document, CancellationToken ct = default) =>
        PutAsync(caller, @namespace, name, () => document, ct);

    /// <summary>Creates or replaces a secret holding one login entered in a form.</summary>
    public Task<PullSecretInfo> PutLoginAsync(Caller caller, string @namespace, string? name, string? registry, string? username, string? password,
        CancellationToken ct = default) =>
        PutAsync(caller, @namespace, name, () => DockerConfig.FromLogin(registry, username, password), ct);

    /// <summary>Who may write is checked before what was sent, so a Viewer learns nothing from validation messages.</summary>
    private async Task<PullSecretInfo> PutAsync(Caller caller, string @namespace, string? name, Func<string?> document, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        name = name?.Trim();
        if (NamespaceName.Validate(name) is { } problem)
        {
            throw new ValidationFailedException("name", $"A secret name is a DNS label: {problem}");
        }

        var text = document();
        var entries = DockerConfig.Parse(text);
        var visible = entries.Select(e => new PullSecretEntry(e.Key, e.Credential.Username)).ToList();
        var secret = await db.PullSecrets.FirstOrDefaultAsync(s => s.NamespaceId == ns.Id && s.Name == name, ct);
        var summary = string.Join(", ", visible.Select(e => $"{e.Username}@{e.Registry}"));
        if (secret is null)
        {
            secret = new PullSecret(ns.Id, name!, protector.Protect(text!), visible, clock.GetUtcNow().UtcDateTime);
            db.PullSecrets.Add(secret);
            AuditTrail.Record(db, clock, caller, "created", "PullSecret", ns.Name, name!, summary);
        }
        else
        {
            secret.Replace(protector.Protect(text!), visible);
            AuditTrail.Record(db, clock, caller, "changed", "PullSecret", ns.Name, name!, summary);
        }

        await db.SaveUniqueAsync("name", $"Pull secret '{name}' already exists.", ct);
        return Info(secret);
    }

    public async Task DeleteAsync(Caller caller, string @namespace, string name, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        var secret = await db.PullSecrets.FirstOrDefaultAsync(s => s.NamespaceId == ns.Id && s.Name == name, ct)
            ?? throw new NotFoundException($"Namespace '{@namespace}' has no pull secret '{name}'.");
        db.PullSecrets.Remove(secret);
        AuditTrail.Record(db, clock, caller, "deleted", "PullSecret", ns.Name, name, "pull secret deleted");
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// Calls <paramref name="call"/> with a target for <paramref name="image"/> holding each of the namespace's credentials
    /// for it, most specific first, then none, as the kubelet does (docs/decisions/0004): a refusal (401, 403) moves on to the
    /// next. When every credential is refused, the error is the last secret's (named in the message) unless anonymous access
    /// failed otherwise than by a 401. With <paramref name="recordUse"/>, each secret tried records whether it was accepted.
    /// Each target carries the registry mirrors that apply to the image, each mirror with the namespace's most specific
    /// credential for the mirror's host (docs/decisions/0016-registry-mirrors.md).
    /// </summary>
    /// <param name="batch">
    /// Shared by the imports of one batch (a repository import, a scheduled group): the secrets are read once per
    /// namespace, and their use is recorded once, by <see cref="RecordUsesAsync"/> at the end.
    /// </param>
    public async Task<CredentialAnswer<T>> WithCredentialsAsync<T>(int namespaceId, ImageReference image, bool insecure, Func<RegistryTarget, Task<T>> call,
        CancellationToken ct, bool recordUse = false, CredentialBatch? batch = null)
    {
        RegistryException? refused = null;
        var keyring = await EntriesAsync(namespaceId, batch, ct);
        var route = RouteFor(image, await mirrors.CurrentAsync(ct), keyring);
        foreach (var entry in Keyring.Match(image, keyring).Append(null))
        {
            try
            {
                var value = await call(new RegistryTarget(image.Registry, insecure, entry?.Credential) { Mirrors = route });
                // A mirror that answered used its own host's credential: the source's entry was not what served it.
                if (recordUse && entry is not null && route?.MirrorsThatAnswered is null or [])
                {
                    await RecordUseAsync(namespaceId, entry.Secret, $"accepted by {image.Registry}", batch, ct);
                }

                return new CredentialAnswer<T>(value, entry, route?.MirrorsThatAnswered ?? []);
            }
            catch (RegistryException e) when (e.Reason is RegistryFailure.Unauthorized or RegistryFailure.Forbidden && entry is not null)
            {
                if (recordUse)
                {
                    await RecordUseAsync(namespaceId, entry.Secret, $"refused by {image.Registry}", batch, ct);
                }

                refused = new RegistryException(e.Reason, $"{e.Message} (pull secret '{entry.Secret}')");
            }
            catch (RegistryException e) when (e.Reason is RegistryFailure.Unauthorized && refused is not null)
            {
                throw refused;
            }
        }

        throw new UnreachableException("Anonymous access, tried last, either answers or throws.");
    }

    /// <summary>
    /// The mirrors for <paramref name="image"/>'s repository by tag and by digest, each with the namespace's most specific
    /// credential for the mirror (the keyring matched against the mirrored reference); null when no mirror applies.
    /// </summary>
    private static MirrorRoute? RouteFor(ImageReference image, MirrorConfiguration configuration,
        IReadOnlyList<(string Secret, DockerConfigEntry Entry)> keyring)
    {
        var byTag = Places(byDigest: false);
        var byDigest = Places(byDigest: true);
        return byTag.Concat(byDigest).Any(p => p.Place.IsMirror) ? new MirrorRoute(image.Repository, byTag, byDigest) : null;

        List<RoutePlace> Places(bool byDigest) =>
        [
            .. configuration.PlacesFor(image.Registry, image.Repository, byDigest).Select(place => new RoutePlace(place, place.IsMirror
                && ImageReference.TryParse($"{place}:latest", out var mirrored, out _) && Keyring.Match(mirrored, keyring) is [var best, ..]
                    ? best.Credential
                    : null)),
        ];
    }

    /// <summary>Every entry of the namespace's pull secrets, decrypted (used by imports, never shown); once per batch.</summary>
    private Task<IReadOnlyList<(string Secret, DockerConfigEntry Entry)>> EntriesAsync(int namespaceId, CredentialBatch? batch, CancellationToken ct)
    {
        return batch is null ? ReadAsync() : batch.Entries.GetOrAdd(namespaceId, _ => ReadAsync());

        async Task<IReadOnlyList<(string Secret, DockerConfigEntry Entry)>> ReadAsync()
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var secrets = await db.PullSecrets.AsNoTracking().Where(s => s.NamespaceId == namespaceId).ToListAsync(ct);
            return [.. secrets.SelectMany(s => DockerConfig.Parse(protector.Unprotect(s.ProtectedDocument)).Select(e => (s.Name, e)))];
        }
    }

    private async Task RecordUseAsync(int namespaceId, string secret, string result, CredentialBatch? batch, CancellationToken ct)
    {
        if (batch is not null)
        {
            batch.Uses[(namespaceId, secret)] = (clock.GetUtcNow().UtcDateTime, result);
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = await db.PullSecrets.FirstOrDefaultAsync(s => s.NamespaceId == namespaceId && s.Name == secret, ct);
        if (row is not null)
        {
            row.RecordUse(clock.GetUtcNow().UtcDateTime, result);
            await db.SaveChangesAsync(ct);
        }
    }

    /// <summary>Records the last use of each secret a batch used, in one save.</summary>
    public async Task RecordUsesAsync(CredentialBatch batch, CancellationToken ct)
    {
        if (batch.Uses.IsEmpty)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var namespaceIds = batch.Uses.Keys.Select(k => k.NamespaceId).Distinct().ToList();
        var rows = await db.PullSecrets.Where(s => namespaceIds.Contains(s.NamespaceId)).ToListAsync(ct);
        foreach (var ((namespaceId, secret), (at, result)) in batch.Uses)
        {
            rows.Find(r => r.NamespaceId == namespaceId && r.Name == secret)?.RecordUse(at, result);
        }

        await db.SaveChangesAsync(ct);
    }

    private static PullSecretInfo Info(PullSecret s) => new(s.Name, s.Entries, s.CreatedAt, s.LastUsedAt, s.LastResult);
}
