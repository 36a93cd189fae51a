using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
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
}

public sealed record DecisionQuery(string? Namespace = null, bool DeniedOnly = false, string? Rule = null, int Skip = 0, int Take = 50);

/// <summary>
/// Answers Kubernetes' admission reviews and the evaluate API from the compiled policy and the image facts; keeps each
/// admission decision through a bounded queue written in batches, so the answer never waits for the database.
/// </summary>
public sealed class AdmissionService(
    PolicyStore store, IImageFacts facts, IDbContextFactory<DashboardDbContext> contexts, TimeProvider clock, ILogger<AdmissionService> logger)
{
    private readonly Channel<AdmissionRecord> _records = Channel.CreateBounded<AdmissionRecord>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>Answers one AdmissionReview; a review that cannot be read throws <see cref="MalformedAdmissionException"/>.</summary>
    public async Task<JsonObject> ValidateAsync(JsonNode? review, CancellationToken ct = default)
    {
        var question = AdmissionReviewReader.Read(review);
        if (question.Operation is not ("CREATE" or "UPDATE") || question.Images.Count == 0)
        {
            return AdmissionReviewReader.Answer(question.Uid, null);
        }

        var decision = await (await store.CurrentAsync(ct)).EvaluateAsync(new PolicyRequest(question.Namespace, question.Resource, question.Images), facts, ct);
        Keep(question, decision);
        return AdmissionReviewReader.Answer(question.Uid, decision);
    }

    /// <summary>The evaluate API: any signed-in user may ask; the answer names rules and reasons, as admission would.</summary>
    public async Task<PolicyDecision> EvaluateAsync(PolicyRequest request, CancellationToken ct = default)
    {
        if (!PolicyResources.All.Contains(request.Resource))
        {
            throw new ValidationFailedException("resource", $"'{request.Resource}' is not a resource: use pods, builds or imports.");
        }

        if (request.Images is null || request.Images.Count == 0)
        {
            throw new ValidationFailedException("images", "Name at least one image reference.");
        }

        return await (await store.CurrentAsync(ct)).EvaluateAsync(request, facts, ct);
    }

    /// <summary>The console's "try it": references or a manifest, evaluated as admission would, with the trace.</summary>
    public async Task<(string Resource, PolicyDecision Decision)> TryAsync(string @namespace, string resource, string? input, CancellationToken ct = default)
    {
        if (Namespaces.NamespaceName.Validate(@namespace) is { } problem)
        {
            throw new ValidationFailedException("namespace", problem);
        }

        var (asked, images) = PolicyTrial.Read(input, resource);
        return (asked, await EvaluateAsync(new PolicyRequest(@namespace, asked, images), ct));
    }

    public async Task<Page<AdmissionRecord>> DecisionsAsync(Caller caller, DecisionQuery query, CancellationToken ct = default)
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

    /// <summary>Writes queued decisions in batches until <paramref name="ct"/> ends (the host runs it in the background).</summary>
    public async Task WriteDecisionsAsync(CancellationToken ct)
    {
        var batch = new List<AdmissionRecord>();
        while (await _records.Reader.WaitToReadAsync(ct))
        {
            while (batch.Count < 500 && _records.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            try
            {
                await using var db = await contexts.CreateDbContextAsync(ct);
                db.AdmissionRecords.AddRange(batch);
                await db.SaveChangesAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
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
        return await db.AdmissionRecords.Where(r => r.At < cutoff).ExecuteDeleteAsync(ct);
    }

    private void Keep(AdmissionQuestion question, PolicyDecision decision)
    {
        var record = new AdmissionRecord
        {
            At = clock.GetUtcNow().UtcDateTime,
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
        };
        if (!_records.Writer.TryWrite(record))
        {
            logger.LogWarning("The admission decision queue is full; a decision for {Namespace}/{Name} was not kept", question.Namespace, question.Name);
        }
    }

    private static string Clip(string text) => text.Length <= AdmissionRecord.MaxTextLength ? text : text[..(AdmissionRecord.MaxTextLength - 1)] + "…";
}
