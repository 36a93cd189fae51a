using System.Text.Json;
using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Policy;

/// <summary>The stored policy: one row holding the ordered rule document and the exemptions as JSON, and a version.</summary>
public sealed class PolicySet
{
    public int Id { get; set; } = 1;

    public string Rules { get; set; } = "[]";

    public string Exemptions { get; set; } = "[]";

    /// <summary>Moves on with every change; instances compare it to know when to compile again.</summary>
    public long Version { get; set; }

    public DateTime? UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }
}

/// <summary>
/// Reads and writes the policy (Admins) and keeps it compiled in memory: evaluation never parses a pattern or reads a
/// rule from the database. Another instance's change is picked up within <see cref="RecheckEvery"/>.
/// </summary>
public sealed class PolicyStore(IDbContextFactory<DashboardDbContext> contexts, TimeProvider clock)
{
    public static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(5);

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly VersionedSnapshot<CompiledPolicy> _policy = new(clock, RecheckEvery);

    /// <summary>The policy in force, compiled; re-read when another instance may have changed it.</summary>
    public ValueTask<CompiledPolicy> CurrentAsync(CancellationToken ct = default) =>
        _policy.GetAsync(contexts,
            async (db, token) => await db.PolicySets.OrderBy(p => p.Id).Select(p => (long?)p.Version).FirstOrDefaultAsync(token) ?? 0,
            async (db, token) => await db.PolicySets.AsNoTracking().OrderBy(p => p.Id).FirstOrDefaultAsync(token) is { } row
                ? PolicyValidator.Compile(ReadRules(row.Rules), ReadExemptions(row.Exemptions))
                : CompiledPolicy.Empty,
            ct);

    public async Task<(IReadOnlyList<PolicyRule> Rules, IReadOnlyList<PolicyExemption> Exemptions, long Version)> GetAsync(Caller caller,
        CancellationToken ct = default)
    {
        caller.RequireAdmin("read the image policy");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = await db.PolicySets.AsNoTracking().OrderBy(p => p.Id).FirstOrDefaultAsync(ct);
        return row is null ? ([], [], 0) : (ReadRules(row.Rules), ReadExemptions(row.Exemptions), row.Version);
    }

    /// <summary>Replaces the rule document, whole or not at all; audited with the document before and after.</summary>
    public Task<CompiledPolicy> PutRulesAsync(Caller caller, IReadOnlyList<PolicyRule>? rules, CancellationToken ct = default) =>
        SaveAsync(caller, "rules", (row, policy) => (row.Rules = JsonSerializer.Serialize(policy.Rules, Json)),
            current => PolicyValidator.Compile(rules, current.Exemptions), ct);

    /// <summary>Replaces the namespace exemptions; every named rule must exist.</summary>
    public Task<CompiledPolicy> PutExemptionsAsync(Caller caller, IReadOnlyList<PolicyExemption>? exemptions, CancellationToken ct = default) =>
        SaveAsync(caller, "exemptions", (row, policy) => (row.Exemptions = JsonSerializer.Serialize(policy.Exemptions, Json)),
            current =>
            {
                var policy = PolicyValidator.Compile(current.Rules, exemptions);
                var names = current.Rules.Select(r => r.Name).ToHashSet();
                var unknown = policy.Exemptions.Select((e, i) => (e, i)).SelectMany(x => x.e.Rules.Where(r => !names.Contains(r)).Select(r => (x.i, r))).ToList();
                if (unknown.Count > 0)
                {
                    throw new ValidationFailedException(unknown.GroupBy(u => u.i).ToDictionary(g => $"exemptions[{g.Key}].rules",
                        g => g.Select(u => $"There is no rule named '{u.r}'.").ToArray()));
                }

                return policy;
            }, ct);

    private async Task<CompiledPolicy> SaveAsync(Caller caller, string what, Func<PolicySet, CompiledPolicy, string> write,
        Func<CompiledPolicy, CompiledPolicy> compile, CancellationToken ct)
    {
        caller.RequireAdmin("change the image policy");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = await db.PolicySets.OrderBy(p => p.Id).FirstOrDefaultAsync(ct);
        var current = row is null ? CompiledPolicy.Empty : PolicyValidator.Compile(ReadRules(row.Rules), ReadExemptions(row.Exemptions));
        var policy = compile(current);
        if (what == "rules")
        {
            await RequireKnownKeysAsync(db, policy.Rules, ct);
        }

        if (row is null)
        {
            row = new PolicySet();
            db.PolicySets.Add(row);
        }

        var before = what == "rules" ? row.Rules : row.Exemptions;
        var after = write(row, policy);
        row.Version++;
        row.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        row.UpdatedBy = caller.UserName;
        var change = what == "rules" ? DescribeChange(current.Rules, policy.Rules) : $"{Shorten(before)} → {Shorten(after)}";
        AuditTrail.Record(db, clock, caller, "changed", "Policy", null, what, change);
        await db.SaveUniqueAsync("", "Someone else changed the policy at the same time; reload and try again.", ct);
        _policy.Keep(row.Version, policy);
        return policy;
    }

    /// <summary><c>signedBy</c> names trusted keys that exist: a misspelt key would make a rule that no image ever meets.</summary>
    private static async Task RequireKnownKeysAsync(DashboardDbContext db, IReadOnlyList<PolicyRule> rules, CancellationToken ct)
    {
        if (!rules.Any(r => r.SignedBy is { Count: > 0 }))
        {
            return;
        }

        var keys = (await Signatures.TrustedKeyStore.NamesAsync(db, ct)).ToHashSet(StringComparer.Ordinal);
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < rules.Count; i++)
        {
            var named = rules[i].SignedBy ?? [];
            for (var k = 0; k < named.Count; k++)
            {
                if (!keys.Contains(named[k]))
                {
                    errors[$"rules[{i}].signedBy[{k}]"] = [$"There is no trusted key named '{named[k]}' (Policy → Trusted keys)."];
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }
    }

    /// <summary>Rule by rule: added, removed, reordered, and each changed field with its value before and after.</summary>
    internal static string DescribeChange(IReadOnlyList<PolicyRule> before, IReadOnlyList<PolicyRule> after)
    {
        var parts = new List<string>();
        var old = before.ToDictionary(r => r.Name);
        foreach (var rule in after)
        {
            if (!old.TryGetValue(rule.Name, out var previous))
            {
                parts.Add($"added {rule.Name}: {JsonSerializer.Serialize(rule, Json)}");
                continue;
            }

            var was = JsonSerializer.SerializeToElement(previous, Json);
            var now = JsonSerializer.SerializeToElement(rule, Json);
            var fields = now.EnumerateObject().Select(p => p.Name).Union(was.EnumerateObject().Select(p => p.Name))
                .Where(f => Raw(was, f) != Raw(now, f))
                .Select(f => $"{f} {Raw(was, f) ?? "(none)"} → {Raw(now, f) ?? "(none)"}").ToList();
            if (fields.Count > 0)
            {
                parts.Add($"changed {rule.Name}: {string.Join(", ", fields)}");
            }
        }

        parts.AddRange(before.Where(r => after.All(a => a.Name != r.Name)).Select(r => $"removed {r.Name}"));
        var order = after.Select(r => r.Name).Where(old.ContainsKey).ToList();
        if (!order.SequenceEqual(before.Select(r => r.Name).Where(order.Contains)))
        {
            parts.Add($"order now {string.Join(", ", after.Select(r => r.Name))}");
        }

        return parts.Count == 0 ? "no change" : string.Join("; ", parts);

        static string? Raw(JsonElement element, string name) => element.TryGetProperty(name, out var value) ? value.GetRawText() : null;
    }

    private static string Shorten(string json) => json.Length <= 1800 ? json : json[..1799] + "…";

    private static List<PolicyRule> ReadRules(string json) => JsonSerializer.Deserialize<List<PolicyRule>>(json, Json) ?? [];

    private static List<PolicyExemption> ReadExemptions(string json) => JsonSerializer.Deserialize<List<PolicyExemption>>(json, Json) ?? [];
}
