using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Domain.Access;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Policy;

/// <summary>How <c>/admission/mutate</c> pins tag references to digests (OpenShift's <c>resolveImages</c>).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ResolveImages>))]
public enum ResolveImages
{
    /// <summary>Leave references alone.</summary>
    DoNotAttempt,

    /// <summary>Resolve where possible, change nothing (the decision is still the validating webhook's).</summary>
    Attempt,

    /// <summary>Refuse a reference that does not resolve; change nothing.</summary>
    Required,

    /// <summary>Rewrite references that resolve to <c>repository@sha256:…</c>; leave the others.</summary>
    AttemptRewrite,

    /// <summary>Rewrite references that resolve; refuse the ones that do not.</summary>
    RequiredRewrite,
}

/// <summary>What a rule matches now: counts over the stream tags and images looked at, and the first few of each.</summary>
public sealed record RulePreview(int MatchedTags, int Tags, IReadOnlyList<string> SomeTags, int MatchedImages, int Images, IReadOnlyList<string> SomeImages);

/// <summary>A recent admission decision that an edited policy would answer the other way.</summary>
public sealed record DecisionFlip(DateTime At, string Namespace, string Kind, string? Name, bool WasAllowed, bool WouldBeAllowed, string Why);

/// <summary>
/// Answers Kubernetes' admission reviews and the evaluate API from the compiled policy and the image facts; hands each
/// validating decision to the <see cref="AdmissionDecisionLog"/>, so the answer never waits for the database.
/// </summary>
public sealed class AdmissionService(PolicyStore store, IImageFacts facts, IDbContextFactory<DashboardDbContext> contexts, AdmissionDecisionLog log)
{
    private long _allowed;
    private long _denied;

    /// <summary>Validating reviews answered on this instance since start, by answer.</summary>
    public (long Allowed, long Denied) Reviews => (Interlocked.Read(ref _allowed), Interlocked.Read(ref _denied));

    /// <summary>Answers one AdmissionReview; a review that cannot be read throws <see cref="MalformedAdmissionException"/>.</summary>
    public async Task<JsonObject> ValidateAsync(JsonNode? review, CancellationToken ct = default)
    {
        var question = AdmissionReviewReader.Read(review);
        if (question.Operation is not ("CREATE" or "UPDATE") || question.Images.Count == 0)
        {
            Interlocked.Increment(ref _allowed);
            return AdmissionReviewReader.Answer(question.Uid, null);
        }

        var decision = await (await store.CurrentAsync(ct)).EvaluateAsync(
            new PolicyRequest(question.Namespace, question.Resource, question.Images), facts, ct, explain: false);
        Interlocked.Increment(ref decision.Allowed ? ref _allowed : ref _denied);
        log.Keep(question, decision);
        return AdmissionReviewReader.Answer(question.Uid, decision);
    }

    /// <summary>
    /// Answers a mutating AdmissionReview: tag references that resolve through a stream tag the dashboard follows are pinned
    /// to the digest that tag points at now, with a JSONPatch; <paramref name="mode"/> says whether to rewrite and whether an
    /// unresolved reference is refused.
    /// </summary>
    /// <param name="localHost">The dashboard's public registry host: a tag with the <c>Local</c> reference policy is rewritten to pull through it.</param>
    public async Task<JsonObject> MutateAsync(JsonNode? review, ResolveImages mode, CancellationToken ct = default, string? localHost = null)
    {
        var question = AdmissionReviewReader.Read(review);
        if (question.Operation is not ("CREATE" or "UPDATE") || mode == ResolveImages.DoNotAttempt)
        {
            return AdmissionReviewReader.Answer(question.Uid, null);
        }

        var patch = new JsonArray();
        var unresolved = new List<string>();
        foreach (var image in question.Images.Where(i => i.Path is not null))
        {
            if (!Images.ImageReference.TryParse(image.Reference, out var reference, out _) || reference.Digest is not null)
            {
                continue;
            }

            var fact = await facts.LookupAsync(reference, question.Namespace, ct);
            if (fact is { Known: true, Digest: { } digest })
            {
                if (mode is ResolveImages.AttemptRewrite or ResolveImages.RequiredRewrite)
                {
                    var pinned = fact.LocalRepository is { } local && !string.IsNullOrWhiteSpace(localHost)
                        ? $"{localHost.Trim()}/{local}@{digest}"
                        : $"{reference.Registry}/{reference.Repository}@{digest}";
                    patch.Add(new JsonObject { ["op"] = "replace", ["path"] = image.Path, ["value"] = pinned });
                }
            }
            else
            {
                unresolved.Add($"{image.Where}: {image.Reference}");
            }
        }

        if (mode is ResolveImages.Required or ResolveImages.RequiredRewrite && unresolved.Count > 0)
        {
            return AdmissionReviewReader.Answer(question.Uid, null,
                $"These images do not resolve to a digest through an image stream, and the policy requires it: {string.Join("; ", unresolved)}");
        }

        var answer = AdmissionReviewReader.Answer(question.Uid, null);
        if (patch.Count > 0)
        {
            var response = answer["response"]!.AsObject();
            response["patchType"] = "JSONPatch";
            response["patch"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(patch.ToJsonString()));
        }

        return answer;
    }

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

    /// <summary>
    /// The evaluate API: any signed-in user may ask about a namespace they read (admins: any); the answer names rules and
    /// reasons, as admission would, and is decided with that namespace's facts.
    /// </summary>
    public async Task<PolicyDecision> EvaluateAsync(Caller caller, PolicyRequest request, CancellationToken ct = default)
    {
        await RequireReadableAsync(caller, request.Namespace, ct);

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

    /// <summary>
    /// The evaluate API's release form: every object of <paramref name="manifests"/> (YAML documents, <c>List</c>s expanded)
    /// judged as admission would judge it, in its own namespace or else in <paramref name="namespace"/>. The caller must read
    /// <paramref name="namespace"/> and every namespace an object names, as <see cref="EvaluateAsync"/> requires.
    /// </summary>
    /// <param name="manifests">Read only once the caller may ask about <paramref name="namespace"/>.</param>
    public async Task<ReleaseDecision> EvaluateReleaseAsync(Caller caller, string? @namespace, TextReader manifests, CancellationToken ct = default)
    {
        if (Namespaces.NamespaceName.Validate(@namespace) is { } problem)
        {
            throw new ValidationFailedException("namespace", problem);
        }

        await RequireReadableAsync(caller, @namespace!, ct);
        var text = await manifests.ReadToEndAsync(ct);
        return await DecideAsync(caller, @namespace!, ManifestReader.Read(text, "body"), "body", explain: false, ct);
    }

    /// <summary>
    /// The console's "try it": references (judged as <paramref name="resource"/>) or manifests (each judged by its kind),
    /// evaluated as admission would, with the trace.
    /// </summary>
    public async Task<ReleaseDecision> TryAsync(Caller caller, string @namespace, string resource, string? input, CancellationToken ct = default)
    {
        if (Namespaces.NamespaceName.Validate(@namespace) is { } problem)
        {
            throw new ValidationFailedException("namespace", problem);
        }

        var (references, objects) = PolicyTrial.Read(input);
        if (objects.Count == 0)
        {
            var decision = await EvaluateAsync(caller, new PolicyRequest(@namespace, resource, references), ct);
            return new ReleaseDecision([new ObjectDecision(null, null, @namespace, resource, references.Count, decision)]);
        }

        var release = await DecideAsync(caller, @namespace, objects, "input", explain: true, ct);
        if (release.Objects.All(o => o.Images == 0))
        {
            throw new ValidationFailedException("input",
                $"{(objects.Count == 1 ? $"A {objects[0].Kind}" : "Objects")} with no images the policy reads (Pods, workloads, CronJobs, Builds are read).");
        }

        return release;
    }

    private async Task<ReleaseDecision> DecideAsync(Caller caller, string @namespace, IReadOnlyList<Manifest> objects, string field, bool explain,
        CancellationToken ct)
    {
        var questions = new List<(Manifest Object, PolicyRequest Request)>();
        foreach (var manifest in objects)
        {
            var ns = manifest.Namespace ?? @namespace;
            if (Namespaces.NamespaceName.Validate(ns) is { } problem)
            {
                throw new ValidationFailedException(field, $"{manifest.Where}: metadata.namespace: {problem}");
            }

            try
            {
                var (resource, images) = AdmissionReviewReader.ImagesOf(manifest.Kind, manifest.Object);
                questions.Add((manifest, new PolicyRequest(ns, resource, images)));
            }
            catch (Exception e) when (e is MalformedAdmissionException or ArgumentException or InvalidOperationException)
            {
                throw new ValidationFailedException(field, $"{manifest.Where}, {manifest.Kind} {manifest.Name ?? "without a name"}: {e.Message}");
            }
        }

        foreach (var ns in questions.Select(q => q.Request.Namespace).Where(ns => ns != @namespace).Distinct())
        {
            await RequireReadableAsync(caller, ns, ct);
        }

        var policy = await store.CurrentAsync(ct);
        var decisions = new List<ObjectDecision>();
        foreach (var (manifest, request) in questions)
        {
            var decision = request.Images.Count == 0
                ? new PolicyDecision(true, [], [], [], [])
                : await policy.EvaluateAsync(request, facts, ct, explain);
            decisions.Add(new ObjectDecision(manifest.Kind, manifest.Name, request.Namespace, request.Resource, request.Images.Count, decision));
        }

        return new ReleaseDecision(decisions);
    }

    /// <summary>Any signed-in user may ask about a namespace they read; admins about any.</summary>
    private async Task RequireReadableAsync(Caller caller, string @namespace, CancellationToken ct)
    {
        if (caller.IsAdmin)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        if (!await db.CanReadAsync(caller, @namespace, ct))
        {
            throw new ForbiddenException($"You may ask about namespace '{@namespace}' only as its member.");
        }
    }
}
