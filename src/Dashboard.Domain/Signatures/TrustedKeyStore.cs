using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Policy;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Signatures;

/// <summary>
/// The trusted keys (admins): add, replace, delete, each audited with the key's fingerprint. A key a policy rule names in
/// <c>signedBy</c> is not deleted (the rule would ask for a key that no longer exists). Every change re-verifies the
/// stored signatures in the background (<see cref="SignatureReverification"/>).
/// </summary>
public sealed class TrustedKeyStore(IDbContextFactory<DashboardDbContext> contexts, PolicyStore policy, SignatureReverification reverification,
    TimeProvider clock)
{
    public async Task<IReadOnlyList<TrustedKey>> ListAsync(Caller caller, CancellationToken ct = default)
    {
        caller.RequireAdmin("read the trusted keys");
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.TrustedKeys.AsNoTracking().OrderBy(k => k.Name).ToListAsync(ct);
    }

    public async Task<TrustedKey> GetAsync(Caller caller, string name, CancellationToken ct = default)
    {
        caller.RequireAdmin("read the trusted keys");
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.TrustedKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Name == name, ct)
            ?? throw new NotFoundException($"There is no trusted key named '{name}'.");
    }

    /// <summary>Adds the key, or replaces the one of that name; true when it is new.</summary>
    public async Task<(TrustedKey Key, bool Created)> PutAsync(Caller caller, string name, string? publicKey, string? description,
        CancellationToken ct = default)
    {
        caller.RequireAdmin("change the trusted keys");
        var errors = new Dictionary<string, string[]>();
        if (NamespaceName.Validate(name) is { } nameProblem)
        {
            errors["name"] = [$"A key name is a DNS label: {nameProblem}"];
        }

        if (!PublicKey.TryParse(publicKey, out var key, out var keyProblem))
        {
            errors["publicKey"] = [keyProblem];
        }

        if (description?.Length > TrustedKey.MaxDescriptionLength)
        {
            errors["description"] = [$"A description has at most {TrustedKey.MaxDescriptionLength} characters."];
        }

        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var at = clock.GetUtcNow().UtcDateTime;
        var row = await db.TrustedKeys.FirstOrDefaultAsync(k => k.Name == name, ct);
        var created = row is null;
        if (row is null)
        {
            row = new TrustedKey(name, key!, publicKey!, description, at, caller.UserName);
            db.TrustedKeys.Add(row);
            AuditTrail.Record(db, clock, caller, "added", "TrustedKey", null, name, $"{key!.Algorithm} {key.Fingerprint}");
        }
        else
        {
            var before = row.Fingerprint;
            row.Replace(key!, publicKey!, description, at, caller.UserName);
            AuditTrail.Record(db, clock, caller, "replaced", "TrustedKey", null, name, $"{before} → {key!.Algorithm} {key.Fingerprint}");
        }

        await db.SaveUniqueAsync("name", $"A trusted key named '{name}' was added at the same time; reload and try again.", ct);
        reverification.Request();
        return (row, created);
    }

    /// <summary>Deletes the key; refused (409, naming the rules) while a policy rule asks for it.</summary>
    public async Task DeleteAsync(Caller caller, string name, CancellationToken ct = default)
    {
        caller.RequireAdmin("change the trusted keys");
        var rules = (await policy.CurrentAsync(ct)).KeysNamed()[name].ToList();
        if (rules.Count > 0)
        {
            var named = string.Join(", ", rules.Select(r => $"'{r}'"));
            throw new ConflictException("name",
                $"Trusted key '{name}' is named by policy rule{(rules.Count == 1 ? "" : "s")} {named}: take it out of their signedBy first.");
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = await db.TrustedKeys.FirstOrDefaultAsync(k => k.Name == name, ct)
            ?? throw new NotFoundException($"There is no trusted key named '{name}'.");
        db.TrustedKeys.Remove(row);
        AuditTrail.Record(db, clock, caller, "deleted", "TrustedKey", null, name, $"{row.Algorithm} {row.Fingerprint}");
        await db.SaveCheckedAsync(ct);
        reverification.Request();
    }

    /// <summary>The keys as verifiers, for imports and re-verification (no caller: the system reads them).</summary>
    public async Task<IReadOnlyList<NamedKey>> LoadAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await ReadAsync(db, ct);
    }

    internal static async Task<IReadOnlyList<NamedKey>> ReadAsync(DashboardDbContext db, CancellationToken ct)
    {
        var rows = await db.TrustedKeys.AsNoTracking().OrderBy(k => k.Name).Select(k => new { k.Name, k.PublicKeyPem }).ToListAsync(ct);
        return [.. rows.Select(r => PublicKey.TryParse(r.PublicKeyPem, out var key, out _) ? new NamedKey(r.Name, key) : null).OfType<NamedKey>()];
    }

    /// <summary>The names of the trusted keys, for the policy's check that <c>signedBy</c> names only keys that exist.</summary>
    internal static Task<List<string>> NamesAsync(DashboardDbContext db, CancellationToken ct) =>
        db.TrustedKeys.AsNoTracking().Select(k => k.Name).ToListAsync(ct);
}
