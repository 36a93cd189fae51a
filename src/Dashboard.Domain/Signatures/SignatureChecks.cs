using System.Collections.Concurrent;
using Dashboard.Domain.Images;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Signatures;

/// <summary>What one look for an image's signatures found, or why it could not look (then what was stored stays).</summary>
public sealed record SignatureLookup(Digest Image, ImageReference Repository, IReadOnlyList<StoredSignature> Signatures, DateTime At, string? Failure)
{
    public IReadOnlyList<string> VerifiedKeys => [.. Signatures.Where(s => s.Verified).Select(s => s.Key!).Distinct().Order(StringComparer.Ordinal)];
}

/// <summary>Starts the signature side of an import batch (<see cref="SignatureBatch"/>).</summary>
public sealed class SignatureChecks(SignatureFinder finder, TrustedKeyStore keys, IOptionsMonitor<SignatureOptions> options, TimeProvider clock)
{
    public SignatureBatch Batch() => new(finder, keys, TimeSpan.FromMinutes(options.CurrentValue.RecheckMinutes), clock);
}

/// <summary>
/// The signature checks of one import batch (docs/decisions/0017): the trusted keys read once; an image's signatures looked
/// for when the import fetched it, and for an unchanged image only when its last look is older than
/// <see cref="SignatureOptions.RecheckMinutes"/>; each (image, repository, credential) looked for once per batch. With no
/// trusted key nothing is looked for: nothing could verify.
/// </summary>
public sealed class SignatureBatch(SignatureFinder finder, TrustedKeyStore keyStore, TimeSpan recheck, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Task<SignatureLookup>> _lookups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ImageSignatures?> _recorded = new(StringComparer.Ordinal);
    private Task<IReadOnlyList<NamedKey>>? _keys;

    private Task<IReadOnlyList<NamedKey>> KeysAsync(CancellationToken ct) =>
        LazyInitializer.EnsureInitialized(ref _keys, () => keyStore.LoadAsync(ct));

    /// <summary>
    /// Looks for the signatures of <paramref name="images"/> (fetched from <paramref name="source"/> with <paramref name="target"/>)
    /// that are due: all when <paramref name="changed"/>, else those not looked at within the recheck interval.
    /// </summary>
    public async Task<IReadOnlyList<SignatureLookup>> LookAsync(DashboardDbContext db, RegistryTarget target, ImageReference source,
        IReadOnlyList<Digest> images, bool changed, CancellationToken ct)
    {
        var keys = await KeysAsync(ct);
        if (keys.Count == 0)
        {
            return [];
        }

        var due = images;
        if (!changed)
        {
            var names = images.Select(i => i.ToString()).ToList();
            var since = clock.GetUtcNow().UtcDateTime - recheck;
            var repository = ImageSignatures.RepositoryOf(source);
            var fresh = await db.ImageSignatures.AsNoTracking()
                .Where(s => names.Contains(s.Digest) && s.Repository == repository && s.CheckedAt > since).Select(s => s.Digest).ToListAsync(ct);
            due = [.. images.Where(i => !fresh.Contains(i.ToString()))];
            if (due.Count > 0)
            {
                // An unchanged list is one HEAD: its platform images, looked at with it, come from what was stored.
                var dueNames = due.Select(i => i.ToString()).ToList();
                var children = await db.Images.AsNoTracking().Where(i => dueNames.Contains(i.Digest)).Select(i => i.Manifests).ToListAsync(ct);
                due = [.. due.Concat(children.SelectMany(c => c).Select(c => Digest.Parse(c.Digest))).Distinct()];
            }
        }

        var lookups = new List<SignatureLookup>(due.Count);
        foreach (var image in due)
        {
            var key = $"{image}|{source.Registry}/{source.Repository}|{target.Insecure}|{target.Credential?.Fingerprint ?? "anonymous"}";
            lookups.Add(await _lookups.GetOrAdd(key, _ => LookOneAsync(target, source, image, keys, ct)));
        }

        return lookups;
    }

    private async Task<SignatureLookup> LookOneAsync(RegistryTarget target, ImageReference source, Digest image, IReadOnlyList<NamedKey> keys,
        CancellationToken ct)
    {
        var at = clock.GetUtcNow().UtcDateTime;
        try
        {
            return new SignatureLookup(image, source, await finder.FindAsync(target, source, image, keys, ct), at, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The image imports all the same (a registry down, a signature manifest that cannot be read); what was known of
            // its signatures stays until a look succeeds.
            return new SignatureLookup(image, source, [], at, e is RegistryException ? e.Message : $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// Records what the lookups found into <paramref name="db"/>'s unit of work (each image and repository once); true when a stored
    /// fact changed, so policy's cached facts must be forgotten once saved.
    /// </summary>
    public async Task<bool> RecordAsync(DashboardDbContext db, IReadOnlyList<SignatureLookup> lookups, CancellationToken ct)
    {
        var changed = false;
        foreach (var lookup in lookups.Where(l => l.Failure is null))
        {
            var digest = lookup.Image.ToString();
            var repository = ImageSignatures.RepositoryOf(lookup.Repository);
            var key = $"{digest}|{repository}";
            if (!_recorded.TryGetValue(key, out var row))
            {
                _recorded[key] = row = await db.ImageSignatures.FirstOrDefaultAsync(s => s.Digest == digest && s.Repository == repository, ct);
            }

            if (row is null)
            {
                _recorded[key] = new ImageSignatures(lookup.Image, lookup.Repository, lookup.Signatures, lookup.At);
                db.ImageSignatures.Add(_recorded[key]!);
                changed |= lookup.VerifiedKeys.Count > 0;
                continue;
            }

            changed |= !row.VerifiedKeys.SequenceEqual(lookup.VerifiedKeys);
            row.Replace(lookup.Repository, lookup.Signatures, lookup.At);
        }

        return changed;
    }
}
