using System.Text.Json;
using Dashboard.Domain.Access;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Dashboard.Domain.Policy;

/// <summary>One admission decision, kept for the decisions page (and for "what would change" before a policy edit).</summary>
public sealed class AdmissionRecord
{
    public const int MaxTextLength = 4000;

    public long Id { get; set; }

    public DateTime At { get; set; }

    public string Namespace { get; set; } = "";

    public string Operation { get; set; } = "";

    public string Kind { get; set; } = "";

    public string? Name { get; set; }

    public string Resource { get; set; } = "";

    public bool Allowed { get; set; }

    /// <summary>The images asked about, as JSON (<c>[{"reference","where"}]</c>).</summary>
    public string Images { get; set; } = "[]";

    public string? Violations { get; set; }

    public string? Warnings { get; set; }

    /// <summary>The names of the rules that refused or warned, comma-separated, for filtering.</summary>
    public string? Rules { get; set; }

    /// <summary>One row per rule that refused, warned or audited, for the per-rule summary; not part of the API's answer.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public List<AdmissionRuleHit> Hits { get; init; } = [];
}

/// <summary>What a rule did to an admission decision.</summary>
public enum RuleEffect
{
    Denied,
    Warned,
    Audited,
}

/// <summary>
/// One rule that refused, warned about or audited one admission decision: once per decision, rule and effect, however many
/// images it judged. A refusal because no Allow rule matched names every Allow rule of that whitelist, so it counts for each.
/// </summary>
public sealed class AdmissionRuleHit
{
    public long Id { get; set; }

    public long AdmissionRecordId { get; set; }

    public string Rule { get; set; } = "";

    public RuleEffect Effect { get; set; }

    /// <summary>The decision's time, copied so the summary reads this table alone.</summary>
    public DateTime At { get; set; }

    /// <summary>The decision's namespace, copied so the summary reads this table alone.</summary>
    public string Namespace { get; set; } = "";
}

/// <summary>
/// How often one rule bit over a window: the decisions it refused, warned about and audited, the namespaces they came
/// from, and the last of them.
/// </summary>
public sealed record RuleSummary(string Rule, int Denials, int Warnings, int Audits, int Namespaces, DateTime LastAt, string LastNamespace,
    string LastKind, string? LastName);

public sealed record DecisionQuery(string? Namespace = null, bool DeniedOnly = false, string? Rule = null, int Skip = 0, int Take = 50);

/// <summary>
/// The admission decision log: each validating decision is queued (<see cref="Keep"/>, never waiting), written in
/// batches by the host's background writer (<see cref="WriteAsync"/>), listed and summarized per rule for admins, and
/// pruned after its retention. Admission answers without it ever touching the database.
/// </summary>
public sealed class AdmissionDecisionLog(IDbContextFactory<DashboardDbContext> contexts, AdmissionDecisionQueue queue, TimeProvider clock,
    ILogger<AdmissionDecisionLog> logger)
{
    /// <summary>The kept decisions, newest first, filtered; admins only (they are every namespace's).</summary>
    public async Task<Page<AdmissionRecord>> QueryAsync(Caller caller, DecisionQuery query, CancellationToken ct = default)
    {
        caller.RequireAdmin("read admission decisions");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var records = db.AdmissionRecords.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Namespace))
        {
            records = records.Where(r => r.Namespace == query.Namespace.Trim());
        }

        if (query.DeniedOnly)
        {
            records = records.Where(r => !r.Allowed);
        }

        if (!string.IsNullOrWhiteSpace(query.Rule))
        {
            records = records.Where(r => r.Rules != null && r.Rules.Contains(query.Rule.Trim()));
        }

        var total = await records.CountAsync(ct);
        var items = await records.OrderByDescending(r => r.Id).Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 500)).ToListAsync(ct);
        return new Page<AdmissionRecord>(items, total);
    }

    public const int MaxSummaryHours = 24 * 366;

    public const int MaxSummaryRules = 100;

    /// <summary>
    /// Which rules bit over the last <paramref name="hours"/>: the <paramref name="top"/> rules by denials, then warnings,
    /// then audits, counted in the database. A decision refused by two rules counts for both.
    /// </summary>
    public async Task<IReadOnlyList<RuleSummary>> SummarizeAsync(Caller caller, int hours = 24, int top = 10, CancellationToken ct = default)
    {
        caller.RequireAdmin("read admission decisions");
        if (hours is < 1 or > MaxSummaryHours)
        {
            throw new ValidationFailedException("hours", $"Summarize between 1 and {MaxSummaryHours} hours.");
        }

        if (top is < 1 or > MaxSummaryRules)
        {
            throw new ValidationFailedException("top", $"Ask for between 1 and {MaxSummaryRules} rules.");
        }

        var since = clock.GetUtcNow().UtcDateTime.AddHours(-hours);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rules = await db.AdmissionRuleHits.AsNoTracking().Where(h => h.At >= since).GroupBy(h => h.Rule)
            .Select(g => new
            {
                Rule = g.Key,
                Denials = g.Count(h => h.Effect == RuleEffect.Denied),
                Warnings = g.Count(h => h.Effect == RuleEffect.Warned),
                Audits = g.Count(h => h.Effect == RuleEffect.Audited),
                Namespaces = g.Select(h => h.Namespace).Distinct().Count(),
                Last = g.Max(h => h.Id),
            })
            .OrderByDescending(r => r.Denials).ThenByDescending(r => r.Warnings).ThenByDescending(r => r.Audits).ThenBy(r => r.Rule)
            .Take(top).ToListAsync(ct);
        var lastIds = rules.Select(r => r.Last).ToList();
        var last = await db.AdmissionRuleHits.AsNoTracking().Where(h => lastIds.Contains(h.Id))
            .Join(db.AdmissionRecords, h => h.AdmissionRecordId, r => r.Id, (h, r) => new { h.Id, r.At, r.Namespace, r.Kind, r.Name })
            .ToDictionaryAsync(l => l.Id, ct);
        return [.. rules.Select(r => last.TryGetValue(r.Last, out var l)
            ? new RuleSummary(r.Rule, r.Denials, r.Warnings, r.Audits, r.Namespaces, l.At, l.Namespace, l.Kind, l.Name)
            // Pruned between the two reads.
            : new RuleSummary(r.Rule, r.Denials, r.Warnings, r.Audits, r.Namespaces, since, "", "", null))];
    }

    /// <summary>
    /// Writes queued decisions in batches until <paramref name="ct"/> ends (the host runs it in the background): each batch
    /// is one multi-row INSERT of the decisions and one of their rule hits, in one transaction.
    /// </summary>
    public async Task WriteAsync(CancellationToken ct)
    {
        var batch = new List<AdmissionRecord>();
        while (await queue.Reader.WaitToReadAsync(ct))
        {
            while (batch.Count < 500 && queue.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            try
            {
                await using var db = await contexts.CreateDbContextAsync(ct);
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                var ids = await db.InsertRowsAsync(batch, returnKeys: true, ct);
                var hits = new List<AdmissionRuleHit>();
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Id = ids[i];
                    foreach (var hit in batch[i].Hits)
                    {
                        hit.AdmissionRecordId = ids[i];
                        hits.Add(hit);
                    }
                }

                await db.InsertRowsAsync(hits, returnKeys: false, ct);
                await transaction.CommitAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                queue.CountUnwritten(batch.Count);
                logger.LogWarning(e, "{Count} admission decisions could not be kept", batch.Count);
            }

            batch.Clear();
        }
    }

    /// <summary>Deletes decisions older than <paramref name="retention"/>.</summary>
    public async Task<int> PruneAsync(TimeSpan retention, CancellationToken ct = default)
    {
        var cutoff = clock.GetUtcNow().UtcDateTime - retention;
        await using var db = await contexts.CreateDbContextAsync(ct);
        // First, so that no provider's foreign-key handling is relied on.
        await db.AdmissionRuleHits.Where(h => h.At < cutoff).ExecuteDeleteAsync(ct);
        return await db.AdmissionRecords.Where(r => r.At < cutoff).ExecuteDeleteAsync(ct);
    }

    /// <summary>Queues one decision for the writer; never waits (a full queue drops it, counted).</summary>
    public void Keep(AdmissionQuestion question, PolicyDecision decision)
    {
        var at = clock.GetUtcNow().UtcDateTime;
        var record = new AdmissionRecord
        {
            At = at,
            Namespace = question.Namespace,
            Operation = question.Operation,
            Kind = question.Kind,
            Name = question.Name,
            Resource = question.Resource,
            Allowed = decision.Allowed,
            Images = Clip(JsonSerializer.Serialize(question.Images, PolicyStore.Json)),
            Violations = decision.Violations.Count == 0 ? null : Clip(decision.Message),
            Warnings = decision.Warnings.Count == 0 ? null : Clip(string.Join("; ", decision.Warnings.Select(w => PolicyDecision.Describe(w, "is warned about by")))),
            Rules = decision.Violations.Count + decision.Warnings.Count == 0 ? null
                : Clip(string.Join(",", decision.Violations.Concat(decision.Warnings).Select(v => v.Rule).Distinct())),
            Hits = decision.Violations.Count + decision.Warnings.Count + decision.Audits.Count == 0 ? []
                : [.. Hits(decision.Violations, RuleEffect.Denied, at, question.Namespace), .. Hits(decision.Warnings, RuleEffect.Warned, at, question.Namespace),
                    .. Hits(decision.Audits, RuleEffect.Audited, at, question.Namespace)],
        };
        if (!queue.TryEnqueue(record))
        {
            logger.LogWarning("The admission decision queue is full; a decision for {Namespace}/{Name} was not kept", question.Namespace, question.Name);
        }
    }

    /// <summary>
    /// One hit per rule: a finding's rule is one name, or for an image no Allow rule matched the whitelist's names joined
    /// with ", " (names are DNS labels, so a comma only separates).
    /// </summary>
    private static IEnumerable<AdmissionRuleHit> Hits(IReadOnlyList<PolicyFinding> findings, RuleEffect effect, DateTime at, string @namespace) =>
        findings.SelectMany(f => f.Rule.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal)
            .Select(rule => new AdmissionRuleHit { Rule = rule, Effect = effect, At = at, Namespace = @namespace });

    private static string Clip(string text) => text.Length <= AdmissionRecord.MaxTextLength ? text : text[..(AdmissionRecord.MaxTextLength - 1)] + "…";
}
