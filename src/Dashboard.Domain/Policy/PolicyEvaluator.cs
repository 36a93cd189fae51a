using Dashboard.Domain.Access;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Policy;

/// <summary>What an admission request asks the policy, with the wire (the review's uid, its JSON) left to the host.</summary>
public sealed record AdmissionQuestion(string Namespace, string Operation, string Kind, string? Name, string Resource, IReadOnlyList<CheckedImage> Images)
{
    /// <summary>Whether this request is judged at all.</summary>
    public bool Judged => IsJudged(Operation);

    /// <summary>Only a create or an update puts images into the cluster; anything else is allowed without evaluation.</summary>
    public static bool IsJudged(string operation) => operation is "CREATE" or "UPDATE";
}

/// <summary>
/// The policy's decision for a request: admission's (each handed to the <see cref="AdmissionDecisionLog"/>, so the answer
/// never waits for the database), the evaluate API's, a whole release's and the console's "try it".
/// </summary>
public sealed class PolicyEvaluator(PolicyStore store, IImageFacts facts, IDbContextFactory<DashboardDbContext> contexts, AdmissionDecisionLog log)
{
    private long _allowed;
    private long _denied;

    /// <summary>Validating reviews answered on this instance since start, by answer.</summary>
    public (long Allowed, long Denied) Reviews => (Interlocked.Read(ref _allowed), Interlocked.Read(ref _denied));

    /// <summary>
    /// Admission's decision, counted and kept; null (allowed, not kept) for a request that puts no image into the cluster.
    /// </summary>
    public async Task<PolicyDecision?> AdmitAsync(AdmissionQuestion question, CancellationToken ct = default)
    {
        if (!question.Judged || question.Images.Count == 0)
        {
            Interlocked.Increment(ref _allowed);
            return null;
        }

        var decision = await (await store.CurrentAsync(ct)).EvaluateAsync(
            new PolicyRequest(question.Namespace, question.Resource, question.Images), facts, ct, explain: false);
        Interlocked.Increment(ref decision.Allowed ? ref _allowed : ref _denied);
        log.Keep(question, decision);
        return decision;
    }

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
                var (resource, images) = WorkloadImages.Of(manifest.Kind, manifest.Object);
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
