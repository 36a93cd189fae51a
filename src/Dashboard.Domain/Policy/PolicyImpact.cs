using System.Text.Json;
using Dashboard.Domain.Access;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Policy;

/// <summary>What a rule matches now: counts over the stream tags and images looked at, and the first few of each.</summary>
public sealed record RulePreview(int MatchedTags, int Tags, IReadOnlyList<string> SomeTags, int MatchedImages, int Images, IReadOnlyList<string> SomeImages);

/// <summary>A recent admission decision that an edited policy would answer the other way.</summary>
public sealed record DecisionFlip(DateTime At, string Namespace, string Kind, string? Name, bool WasAllowed, bool WouldBeAllowed, string Why);

/// <summary>
/// What a policy edit would do before it is saved: the recent decisions it would answer the other way, and what one rule
/// matches among the followed tags and imported images. Admins only; nothing is saved.
/// </summary>
public sealed class PolicyImpact(PolicyStore store, IImageFacts facts, IDbContextFactory<DashboardDbContext> contexts)
{
    /// <summary>
    /// "What would change": the recent admission decisions evaluated again under <paramref name="rules"/>, listing every one
    /// whose answer would flip. Nothing is saved.
    /// </summary>
    public async Task<IReadOnlyList<DecisionFlip>> WhatWouldChangeAsync(Caller caller, IReadOnlyList<PolicyRule> rules, int recent = 1000, CancellationToken ct = default)
    {
        caller.RequireAdmin("preview a policy change");
        var current = await store.CurrentAsync(ct);
        var candidate = PolicyValidator.Compile(rules, current.Exemptions);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var records = await db.AdmissionRecords.AsNoTracking().OrderByDescending(r => r.Id).Take(recent).ToListAsync(ct);
        var flips = new List<DecisionFlip>();
        foreach (var record in records)
        {
            var images = JsonSerializer.Deserialize<List<CheckedImage>>(record.Images, PolicyStore.Json) ?? [];
            var decision = await candidate.EvaluateAsync(new PolicyRequest(record.Namespace, record.Resource, images), facts, ct, explain: false);
            if (decision.Allowed != record.Allowed)
            {
                flips.Add(new DecisionFlip(record.At, record.Namespace, record.Kind, record.Name, record.Allowed, decision.Allowed,
                    decision.Allowed ? "would be allowed" : decision.Message));
            }
        }

        return flips;
    }

    /// <summary>
    /// The rule editor's live preview: which stream tags (by the upstream image they follow) and which imported images
    /// the rule's conditions match now. A rule that does not compile matches nothing.
    /// </summary>
    public async Task<RulePreview> PreviewAsync(Caller caller, PolicyRule rule, CancellationToken ct = default)
    {
        caller.RequireAdmin("preview a policy rule");
        CompiledPolicy single;
        try
        {
            single = PolicyValidator.Compile([rule with { Name = string.IsNullOrWhiteSpace(rule.Name) ? "preview" : rule.Name }]);
        }
        catch (ValidationFailedException)
        {
            return new RulePreview(0, 0, [], 0, 0, []);
        }

        var name = single.Rules[0].Name;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var tags = await db.SpecTags.AsNoTracking().Where(t => t.FromKind == ImageStreams.TagSourceKind.DockerImage)
            .Join(db.ImageStreams, t => t.ImageStreamId, s => s.Id, (t, s) => new { Namespace = s.Namespace.Name, Stream = s.Name, t.Name, t.FromName })
            .OrderBy(t => t.Namespace).ThenBy(t => t.Stream).ThenBy(t => t.Name).Take(PreviewLimit).ToListAsync(ct);
        var matchedTags = new List<string>();
        foreach (var tag in tags)
        {
            if (Images.ImageReference.TryParse(tag.FromName, out var reference, out _)
                && single.RuleMatches(name, reference, await facts.LookupAsync(reference, tag.Namespace, ct)))
            {
                matchedTags.Add($"{tag.Namespace}/{tag.Stream}:{tag.Name} ← {reference}");
            }
        }

        var images = await db.Images.AsNoTracking().OrderByDescending(i => i.Digest).Select(i => i.DockerImageReference).Take(PreviewLimit).ToListAsync(ct);
        var matchedImages = new List<string>();
        foreach (var image in images)
        {
            if (Images.ImageReference.TryParse(image, out var reference, out _) && single.RuleMatches(name, reference, await facts.LookupAsync(reference, null, ct)))
            {
                matchedImages.Add(reference.ToString());
            }
        }

        return new RulePreview(matchedTags.Count, tags.Count, [.. matchedTags.Take(20)], matchedImages.Count, images.Count, [.. matchedImages.Take(20)]);
    }

    private const int PreviewLimit = 5000;
}
