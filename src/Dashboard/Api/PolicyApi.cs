using System.Security.Claims;
using System.Text;
using Dashboard.Domain;
using Dashboard.Domain.Policy;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

public sealed record EvaluateRequest(string? Namespace, string? Resource, IReadOnlyList<string>? Images);

public sealed record EvaluateResponse(bool Allowed, IReadOnlyList<PolicyFinding> Violations, IReadOnlyList<PolicyFinding> Warnings,
    IReadOnlyList<PolicyFinding> Audits, IReadOnlyList<RuleTrace> Trace);

/// <summary>One object of a release as the evaluate API answers it.</summary>
public sealed record ObjectVerdict(string Kind, string? Name, string Namespace, bool Allowed, IReadOnlyList<PolicyFinding> Violations,
    IReadOnlyList<PolicyFinding> Warnings);

public sealed record EvaluateReleaseResponse(bool Allowed, IReadOnlyList<ObjectVerdict> Objects);

internal static class PolicyApi
{
    /// <summary>Rules, exemptions and decisions: Admins. Evaluate: any signed-in user (CI pipelines, the console).</summary>
    public static void MapPolicyApi(this RouteGroupBuilder api)
    {
        var policy = api.MapGroup("/policy").WithTags("Policy");
        var admin = policy.MapGroup("").RequireAuthorization(SignInAndRolesExtensions.AdminPolicy);
        admin.MapGet("/rules", GetRules);
        admin.MapPut("/rules", PutRules).ProducesValidationProblem();
        admin.MapGet("/exemptions", GetExemptions);
        admin.MapPut("/exemptions", PutExemptions).ProducesValidationProblem();
        admin.MapGet("/decisions", Decisions);
        admin.MapGet("/decisions/summary", Summary).ProducesValidationProblem();
        admin.MapPost("/rules/preview", Preview).ProducesValidationProblem();
        // The same question about a whole release, chosen by the body's content type. Mapped first: the OpenAPI document
        // describes one operation per route and method, the last mapped, and it stays the JSON form it always was. Ordered
        // after the JSON form, which so keeps answering a body without a content type (415) rather than both matching.
        policy.MapPost("/evaluate", EvaluateRelease).Accepts<string>("application/yaml", "application/x-yaml", "text/yaml").WithOrder(1)
            .ProducesValidationProblem();
        policy.MapPost("/evaluate", Evaluate).ProducesValidationProblem()
            .WithDescription("Also takes a whole release: a multi-document YAML body (application/yaml) with ?namespace=, answered object by object.");
    }

    private static async Task<Ok<IReadOnlyList<PolicyRule>>> GetRules(PolicyStore store, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok((await store.GetAsync(user.ToCaller(), ct)).Rules);

    private static async Task<Ok<IReadOnlyList<PolicyRule>>> PutRules(List<PolicyRule>? rules, PolicyStore store, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok((await store.PutRulesAsync(user.ToCaller(), rules, ct)).Rules);

    private static async Task<Ok<IReadOnlyList<PolicyExemption>>> GetExemptions(PolicyStore store, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok((await store.GetAsync(user.ToCaller(), ct)).Exemptions);

    private static async Task<Ok<IReadOnlyList<PolicyExemption>>> PutExemptions(List<PolicyExemption>? exemptions, PolicyStore store, ClaimsPrincipal user,
        CancellationToken ct) =>
        TypedResults.Ok((await store.PutExemptionsAsync(user.ToCaller(), exemptions, ct)).Exemptions);

    /// <summary>"What would change": the recent decisions the given rule document would answer the other way; nothing is saved.</summary>
    private static async Task<Ok<IReadOnlyList<DecisionFlip>>> Preview(List<PolicyRule>? rules, PolicyImpact impact, ClaimsPrincipal user,
        CancellationToken ct) =>
        TypedResults.Ok(await impact.WhatWouldChangeAsync(user.ToCaller(), rules ?? [], ct: ct));

    private static async Task<Ok<Page<AdmissionRecord>>> Decisions(AdmissionDecisionLog decisions, ClaimsPrincipal user, string? @namespace, bool? deniedOnly,
        string? rule, int? skip, int? take, CancellationToken ct) =>
        TypedResults.Ok(await decisions.QueryAsync(user.ToCaller(), new DecisionQuery(@namespace, deniedOnly ?? false, rule, skip ?? 0, take ?? 50), ct));

    /// <summary>Which rules bit over the last <paramref name="hours"/> (default a day): the <paramref name="top"/> rules by denials, then warnings.</summary>
    private static async Task<Ok<IReadOnlyList<RuleSummary>>> Summary(AdmissionDecisionLog decisions, ClaimsPrincipal user, int? hours, int? top,
        CancellationToken ct) =>
        TypedResults.Ok(await decisions.SummarizeAsync(user.ToCaller(), hours ?? 24, top ?? 10, ct));

    private static async Task<Ok<EvaluateResponse>> Evaluate(EvaluateRequest request, PolicyEvaluator evaluator, ClaimsPrincipal user, CancellationToken ct)
    {
        if (Dashboard.Domain.Namespaces.NamespaceName.Validate(request.Namespace) is { } problem)
        {
            throw new ValidationFailedException("namespace", problem);
        }

        var decision = await evaluator.EvaluateAsync(user.ToCaller(), new PolicyRequest(request.Namespace!, request.Resource ?? PolicyResources.Pods,
            [.. (request.Images ?? []).Select(i => new CheckedImage(i))]), ct);
        // The trace tells every rule's name and conditions: the policy itself, which only admins read. Members get the
        // findings, as admission would tell them.
        var caller = user.ToCaller();
        return TypedResults.Ok(new EvaluateResponse(decision.Allowed, decision.Violations, decision.Warnings, decision.Audits,
            caller.IsAdmin ? decision.Trace : []));
    }

    /// <summary>
    /// A Helm template's output or a kustomize build, each object judged as admission would judge it: CI checks a release
    /// in one call. Objects without images are listed, allowed.
    /// </summary>
    private static async Task<Ok<EvaluateReleaseResponse>> EvaluateRelease(HttpRequest request, string? @namespace, PolicyEvaluator evaluator,
        ClaimsPrincipal user, CancellationToken ct)
    {
        using var body = new StreamReader(request.Body, Encoding.UTF8);
        var release = await evaluator.EvaluateReleaseAsync(user.ToCaller(), @namespace, body, ct);
        return TypedResults.Ok(new EvaluateReleaseResponse(release.Allowed, [.. release.Objects.Select(o =>
            new ObjectVerdict(o.Kind!, o.Name, o.Namespace, o.Decision.Allowed, o.Decision.Violations, o.Decision.Warnings))]));
    }
}
