using System.Security.Claims;
using Dashboard.Domain.Triggers;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

/// <summary>The secret is write-only: no answer carries it.</summary>
public sealed record WebhookRequest(string? Url, string? Secret, string? Streams, string? Tags);

internal static class WebhooksApi
{
    /// <summary>Namespace members read webhooks and their deliveries; Editors write them (checked by the domain).</summary>
    public static void MapWebhooksApi(this RouteGroupBuilder api)
    {
        var webhooks = api.MapGroup("/namespaces/{ns}/webhooks").WithTags("Webhooks");
        webhooks.MapGet("/", List);
        webhooks.MapGet("/{name}", Get);
        webhooks.MapPut("/{name}", Put).ProducesValidationProblem();
        webhooks.MapDelete("/{name}", Delete);
        webhooks.MapGet("/{name}/deliveries", Deliveries);
        webhooks.MapPost("/{name}/deliveries/{eventId:long}/redeliver", Redeliver);
    }

    private static async Task<Ok<IReadOnlyList<WebhookInfo>>> List(string ns, WebhookService service, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(await service.ListAsync(user.ToCaller(), ns, ct));

    private static async Task<Ok<WebhookInfo>> Get(string ns, string name, WebhookService service, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok((await service.ListAsync(user.ToCaller(), ns, ct)).FirstOrDefault(w => w.Name == name)
            ?? throw new Dashboard.Domain.NotFoundException($"Namespace '{ns}' has no webhook '{name}'."));

    private static async Task<Ok<WebhookInfo>> Put(string ns, string name, WebhookRequest request, WebhookService service, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(await service.PutAsync(user.ToCaller(), ns, name, request.Url, request.Secret, request.Streams, request.Tags, ct));

    private static async Task<NoContent> Delete(string ns, string name, WebhookService service, ClaimsPrincipal user, CancellationToken ct)
    {
        await service.DeleteAsync(user.ToCaller(), ns, name, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<IReadOnlyList<DeliveryInfo>>> Deliveries(string ns, string name, WebhookService service, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(await service.DeliveriesAsync(user.ToCaller(), ns, name, ct));

    /// <summary>Sends the event to this webhook again now and answers with the attempt (a failed attempt is still a 200 with its result).</summary>
    private static async Task<Ok<DeliveryInfo>> Redeliver(string ns, string name, long eventId, WebhookService service, ClaimsPrincipal user, CancellationToken ct) =>
        TypedResults.Ok(await service.RedeliverAsync(user.ToCaller(), ns, name, eventId, ct));
}
