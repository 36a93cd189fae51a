using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Diagnostics;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Triggers;

public sealed record WebhookInfo(string Name, string Url, string? Streams, string? Tags, DateTime CreatedAt);

public sealed record DeliveryInfo(long EventId, string Stream, string Tag, string Image, DateTime At, int? StatusCode, bool Succeeded, string Result, int DurationMs);

/// <summary>
/// Webhook subscriptions of a namespace (Editors) and their delivery. Each delivery is a JSON POST signed with
/// HMAC-SHA256 of the body under the webhook's secret, in <c>X-Dashboard-Signature-256: sha256=&lt;hex&gt;</c> (the GitHub
/// convention receivers already know), and is recorded whatever happens.
/// </summary>
public sealed class WebhookService : IDisposable
{
    private readonly IDbContextFactory<DashboardDbContext> _contexts;
    private readonly ISecretProtector _protector;
    private readonly TimeProvider _clock;
    private readonly ILogger<WebhookService> _logger;
    private readonly HttpClient _http;

    public WebhookService(IDbContextFactory<DashboardDbContext> contexts, ISecretProtector protector, IOptions<RegistryOptions> registryOptions,
        TimeProvider clock, ILogger<WebhookService> logger)
    {
        _contexts = contexts;
        _protector = protector;
        _clock = clock;
        _logger = logger;
        // Webhook URLs are outbound requests to addresses people typed: the same guard as registries (no metadata addresses).
        var guard = new OutboundGuard(registryOptions.Value.AllowLoopback);
        _http = new HttpClient(guard.CreateHandler()) { Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task<IReadOnlyList<WebhookInfo>> ListAsync(Caller caller, string @namespace, CancellationToken ct = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: false, ct);
        var webhooks = await db.Webhooks.AsNoTracking().Where(w => w.NamespaceId == ns.Id).OrderBy(w => w.Name)
            .Select(w => new WebhookInfo(w.Name, w.Url, w.Streams, w.Tags, w.CreatedAt)).ToListAsync(ct);
        return [.. webhooks.Select(w => w with { Url = Webhook.Redact(w.Url) })];
    }

    public async Task<WebhookInfo> PutAsync(Caller caller, string @namespace, string? name, string? url, string? secret, string? streams, string? tags,
        CancellationToken ct = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        var errors = new Dictionary<string, string[]>();
        if (NamespaceName.Validate(name?.Trim()) is { } problem)
        {
            errors["name"] = [$"A webhook name is a DNS label: {problem}"];
        }

        if (!Uri.TryCreate(url?.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || url!.Length > Webhook.MaxUrlLength)
        {
            errors["url"] = ["An absolute http(s) URL is required."];
        }

        foreach (var (field, filter) in new[] { ("streams", streams), ("tags", tags) })
        {
            if (filter?.Trim().Length > Webhook.MaxFilterLength)
            {
                errors[field] = [$"A filter has at most {Webhook.MaxFilterLength} characters."];
            }
        }

        var existing = name is null ? null : await db.Webhooks.FirstOrDefaultAsync(w => w.NamespaceId == ns.Id && w.Name == name.Trim(), ct);
        if (string.IsNullOrEmpty(secret) && existing is null)
        {
            errors["secret"] = ["A secret is required: it signs every delivery."];
        }
        else if (secret is { Length: < 16 })
        {
            errors["secret"] = ["Use a secret of at least 16 characters."];
        }

        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }

        var webhook = existing ?? new Webhook(ns.Id, name!.Trim(), _clock.GetUtcNow().UtcDateTime);
        if (existing is null)
        {
            db.Webhooks.Add(webhook);
        }

        // The user-info and query string are write-only, like the secret: the URL as shown (redacted) sent back keeps them.
        // A row written before URLs were redacted holds the whole URL in Url and is protected now.
        var keep = existing is not null && url!.Trim() == Webhook.Redact(existing.Url);
        var (shown, protectedUrl) = keep && existing!.ProtectedUrl is { } kept ? (existing.Url, kept) : Split(keep ? existing!.Url : uri!.ToString());
        webhook.Set(shown, protectedUrl, string.IsNullOrEmpty(secret) ? existing!.ProtectedSecret : _protector.Protect(secret),
            string.IsNullOrWhiteSpace(streams) ? null : streams.Trim(), string.IsNullOrWhiteSpace(tags) ? null : tags.Trim());
        AuditTrail.Record(db, _clock, caller, existing is null ? "created" : "changed", "Webhook", ns.Name, webhook.Name, $"{webhook.Url} streams={webhook.Streams ?? "*"} tags={webhook.Tags ?? "*"}");
        await db.SaveUniqueAsync("name", $"Webhook '{name}' already exists.", ct);
        return new WebhookInfo(webhook.Name, webhook.Url, webhook.Streams, webhook.Tags, webhook.CreatedAt);
    }

    /// <summary>A whole URL as shown (redacted) and as stored (protected, only when redacting hid something).</summary>
    private (string Shown, string? Protected) Split(string url) =>
        Webhook.Redact(url) is var shown && shown == url ? (url, null) : (shown, _protector.Protect(url));

    public async Task DeleteAsync(Caller caller, string @namespace, string name, CancellationToken ct = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        var webhook = await db.Webhooks.FirstOrDefaultAsync(w => w.NamespaceId == ns.Id && w.Name == name, ct)
            ?? throw new NotFoundException($"Namespace '{@namespace}' has no webhook '{name}'.");
        db.Webhooks.Remove(webhook);
        AuditTrail.Record(db, _clock, caller, "deleted", "Webhook", ns.Name, name, Webhook.Redact(webhook.Url));
        await db.SaveChangesAsync(ct);
    }

    public async Task<IReadOnlyList<DeliveryInfo>> DeliveriesAsync(Caller caller, string @namespace, string name, CancellationToken ct = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: false, ct);
        var webhook = await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.NamespaceId == ns.Id && w.Name == name, ct)
            ?? throw new NotFoundException($"Namespace '{@namespace}' has no webhook '{name}'.");
        return await db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == webhook.Id)
            .Join(db.ChangeEvents, d => d.EventId, e => e.Id, (d, e) => new { d, e })
            .OrderByDescending(x => x.d.At).Take(200)
            .Select(x => new DeliveryInfo(x.e.Id, x.e.Stream, x.e.Tag, x.e.Image, x.d.At, x.d.StatusCode, x.d.Succeeded, x.d.Result, x.d.DurationMs))
            .ToListAsync(ct);
    }

    /// <summary>
    /// Delivers one event to every matching webhook of its namespace that has not received it yet.
    /// </summary>
    /// <returns>Whether every delivery succeeded (the host retries the event otherwise; delivered webhooks are skipped).</returns>
    public async Task<bool> DeliverAsync(long eventId, CancellationToken ct = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(ct);
        var change = await db.ChangeEvents.AsNoTracking().FirstOrDefaultAsync(e => e.Id == eventId, ct);
        if (change is null)
        {
            return true;
        }

        var delivered = await db.WebhookDeliveries.Where(d => d.EventId == eventId && d.Succeeded).Select(d => d.WebhookId).ToListAsync(ct);
        var webhooks = (await db.Webhooks.AsNoTracking().Where(w => w.NamespaceId == change.NamespaceId).ToListAsync(ct))
            .Where(w => w.Matches(change) && !delivered.Contains(w.Id)).ToList();
        var allDelivered = true;
        foreach (var webhook in webhooks)
        {
            allDelivered &= (await SendAsync(db, webhook, change, ct)).Succeeded;
        }

        await db.SaveChangesAsync(ct);
        return allDelivered;
    }

    /// <summary>Sends one event to one webhook again, now, whether or not it had it (the console's redeliver button).</summary>
    public async Task<DeliveryInfo> RedeliverAsync(Caller caller, string @namespace, string name, long eventId, CancellationToken ct = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        var webhook = await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.NamespaceId == ns.Id && w.Name == name, ct)
            ?? throw new NotFoundException($"Namespace '{@namespace}' has no webhook '{name}'.");
        var change = await db.ChangeEvents.AsNoTracking().FirstOrDefaultAsync(e => e.Id == eventId && e.NamespaceId == ns.Id, ct)
            ?? throw new NotFoundException($"Namespace '{@namespace}' has no event {eventId}.");
        var delivery = await SendAsync(db, webhook, change, ct);
        AuditTrail.Record(db, _clock, caller, "redelivered", "Webhook", ns.Name, webhook.Name, $"event {eventId}: {delivery.Result}");
        await db.SaveChangesAsync(ct);
        return new DeliveryInfo(change.Id, change.Stream, change.Tag, change.Image, delivery.At, delivery.StatusCode, delivery.Succeeded, delivery.Result, delivery.DurationMs);
    }

    /// <summary>
    /// Events that matching webhooks never got an attempt at, between <paramref name="olderThan"/> and a day old: their
    /// delivery job was lost (the process died between saving the import and queueing the job). The host queues them again.
    /// </summary>
    public async Task<IReadOnlyList<long>> UnattemptedAsync(TimeSpan olderThan, CancellationToken ct = default)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        var (from, to) = (now - TimeSpan.FromDays(1), now - olderThan);
        await using var db = await _contexts.CreateDbContextAsync(ct);
        var candidates = await db.ChangeEvents.AsNoTracking()
            .Where(e => e.OccurredAt >= from && e.OccurredAt <= to)
            .Where(e => db.Webhooks.Any(w => w.NamespaceId == e.NamespaceId) && !db.WebhookDeliveries.Any(d => d.EventId == e.Id))
            .OrderBy(e => e.Id).Take(500).ToListAsync(ct);
        var webhooks = (await db.Webhooks.AsNoTracking().Where(w => candidates.Select(c => c.NamespaceId).Contains(w.NamespaceId)).ToListAsync(ct))
            .ToLookup(w => w.NamespaceId);
        return [.. candidates.Where(c => webhooks[c.NamespaceId].Any(w => w.Matches(c))).Select(c => c.Id)];
    }

    private async Task<WebhookDelivery> SendAsync(DashboardDbContext db, Webhook webhook, ChangeEvent change, CancellationToken ct)
    {
        using var span = DashboardTelemetry.Source.StartActivity("webhook delivery");
        span?.SetTag("dashboard.namespace", change.Namespace).SetTag("dashboard.webhook", webhook.Name).SetTag("dashboard.event", change.Id);
        var body = JsonSerializer.SerializeToUtf8Bytes(change.ToCloudEvent());
        var started = Stopwatch.GetTimestamp();
        int? status = null;
        string result;
        bool succeeded;
        try
        {
            var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(_protector.Unprotect(webhook.ProtectedSecret)), body));
            var url = new Uri(webhook.ProtectedUrl is { } protectedUrl ? _protector.Unprotect(protectedUrl) : webhook.Url);
            using var request = new HttpRequestMessage(HttpMethod.Post, new UriBuilder(url) { UserName = "", Password = "" }.Uri) { Content = new ByteArrayContent(body) };
            if (url.UserInfo.Length > 0)
            {
                // user:password@ in the URL is Basic authentication, sent at once as curl does (HttpClient would not send it).
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(url.UserInfo))));
            }

            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/cloudevents+json");
            request.Headers.Add("X-Dashboard-Event", change.Type);
            request.Headers.Add("X-Dashboard-Delivery", $"{change.Id}-{webhook.Id}");
            request.Headers.Add("X-Dashboard-Signature-256", "sha256=" + signature);
            using var response = await _http.SendAsync(request, ct);
            status = (int)response.StatusCode;
            succeeded = response.IsSuccessStatusCode;
            result = succeeded ? "delivered" : $"the receiver answered {status}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            succeeded = false;
            result = e.InnerException is OutboundRefusedException refused ? refused.Message : $"not delivered: {e.Message}";
        }

        var delivery = new WebhookDelivery(webhook.Id, change.Id, _clock.GetUtcNow().UtcDateTime, status, succeeded, result,
            (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        db.WebhookDeliveries.Add(delivery);
        Interlocked.Increment(ref succeeded ? ref _succeeded : ref _failed);
        span?.SetTag("dashboard.webhook.result", result);
        if (!succeeded)
        {
            span?.SetStatus(ActivityStatusCode.Error, result);
            _logger.LogWarning("Webhook {Namespace}/{Webhook} delivery of event {Event} failed: {Result}", change.Namespace, webhook.Name, change.Id, result);
        }

        return delivery;
    }

    private long _succeeded;
    private long _failed;

    /// <summary>Delivery attempts since start on this instance (for /metrics).</summary>
    public (long Succeeded, long Failed) Attempts => (Interlocked.Read(ref _succeeded), Interlocked.Read(ref _failed));

    public void Dispose() => _http.Dispose();
}
