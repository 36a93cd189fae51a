using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Domain.Diagnostics;
using Dashboard.Domain.Policy;
using Microsoft.Extensions.Options;

namespace Dashboard.Hosting;

/// <summary>The <c>Dashboard:Admission</c> settings.</summary>
public sealed class AdmissionOptions
{
    public const string Section = "Dashboard:Admission";

    /// <summary>
    /// When set, the admission endpoints answer only requests with <c>Authorization: Bearer &lt;this&gt;</c> — the token the
    /// API server presents through its admission kubeconfig. Empty: only callers from <see cref="AllowedNetworks"/>.
    /// </summary>
    public string? BearerToken { get; set; }

    /// <summary>
    /// While no <see cref="BearerToken"/> is set, the networks (CIDR) whose callers the admission endpoints answer; nobody
    /// else learns digests or rule descriptions from them, or fills the decision log. Unset: loopback only (a default
    /// here would be appended to by the configuration binder, not replaced).
    /// </summary>
    public string[]? AllowedNetworks { get; set; }

    public IReadOnlyList<string> Networks => AllowedNetworks ?? NetworkAllowList.Loopback;

    /// <summary>How long admission decisions are kept for the decisions page.</summary>
    [Range(1, 3650)]
    public int DecisionRetentionDays { get; set; } = 7;

    /// <summary>
    /// How many decisions wait for the database at most; past it a decision is not kept (the answer is not affected) and
    /// <c>dashboard_admission_decisions_dropped_total</c> counts it.
    /// </summary>
    [Range(1, 1_000_000)]
    public int DecisionQueueCapacity { get; set; } = AdmissionDecisionQueue.DefaultCapacity;

    /// <summary>How <c>/admission/mutate</c> pins tag references to digests.</summary>
    public ResolveImages ResolveImages { get; set; } = ResolveImages.AttemptRewrite;

    /// <summary>
    /// A port of its own for the admission endpoints, over HTTPS with <see cref="CertificateFile"/> and <see cref="KeyFile"/>
    /// (PEM), as a cluster's API server requires; 0 serves them on the app's own addresses.
    /// </summary>
    [Range(0, 65535)]
    public int Port { get; set; }

    public string? CertificateFile { get; set; }

    public string? KeyFile { get; set; }

    /// <summary>The largest AdmissionReview read (the API server sends up to about 3 MiB).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 4 * 1024 * 1024;
}

internal static class AdmissionExtensions
{
    public static void AddAdmission(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdmissionOptions>().BindConfiguration(AdmissionOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Port == 0 || (File.Exists(o.CertificateFile) && File.Exists(o.KeyFile)),
                $"{AdmissionOptions.Section}:Port needs CertificateFile and KeyFile: PEM files that exist.")
            .Validate(o => NetworkAllowList.AreValid(o.Networks),
                $"{AdmissionOptions.Section}:AllowedNetworks holds a value that is not a CIDR network (e.g. 10.0.0.0/8).")
            .ValidateOnStart();
        builder.Services.AddSingleton(provider => new AdmissionDecisionQueue(provider.GetRequiredService<IOptions<AdmissionOptions>>().Value.DecisionQueueCapacity));
        builder.Services.AddHostedService<AdmissionDecisionWriter>();
        var settings = builder.Configuration.GetSection(AdmissionOptions.Section).Get<AdmissionOptions>() ?? new AdmissionOptions();
        if (settings.Port > 0 && ExtraPorts.Certificate(settings.CertificateFile, settings.KeyFile) is { } certificate)
        {
            builder.ListenAlsoOn(settings.Port, certificate);
        }
    }

    /// <summary>
    /// <c>POST /admission/validate</c> and <c>/admission/mutate</c>: Kubernetes' admission webhooks. No dashboard session (the
    /// cluster's API server calls them): they answer the configured bearer token, and while none is set only callers from
    /// <c>Dashboard:Admission:AllowedNetworks</c> (loopback by default). With <c>Dashboard:Admission:Port</c> they answer
    /// only on that port.
    /// </summary>
    public static void MapAdmission(this WebApplication app)
    {
        var port = app.Services.GetRequiredService<IOptions<AdmissionOptions>>().Value.Port;
        var validate = app.MapPost("/admission/validate", ValidateAsync).AllowAnonymous().ExcludeFromDescription();
        var mutate = app.MapPost("/admission/mutate", MutateAsync).AllowAnonymous().ExcludeFromDescription();
        if (port > 0)
        {
            validate.OnlyOnPort(port);
            mutate.OnlyOnPort(port);
        }
    }

    private static Task<IResult> ValidateAsync(HttpContext context, AdmissionService admission, IOptionsMonitor<AdmissionOptions> options,
        ILogger<AdmissionService> logger, CancellationToken ct) =>
        AnswerAsync(context, options.CurrentValue, logger, review => admission.ValidateAsync(review, ct), ct);

    private static Task<IResult> MutateAsync(HttpContext context, AdmissionService admission, IOptionsMonitor<AdmissionOptions> options,
        IOptions<Dashboard.Domain.Proxy.ProxyOptions> proxy, ILogger<AdmissionService> logger, CancellationToken ct) =>
        AnswerAsync(context, options.CurrentValue, logger,
            review => admission.MutateAsync(review, options.CurrentValue.ResolveImages, ct, proxy.Value.PublicHost), ct);

    private static async Task<IResult> AnswerAsync(HttpContext context, AdmissionOptions settings, ILogger logger, Func<JsonNode?, Task<JsonObject>> answer,
        CancellationToken ct)
    {
        if (!string.IsNullOrEmpty(settings.BearerToken))
        {
            if (!HasToken(context.Request, settings.BearerToken))
            {
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, detail: "The admission endpoint needs the configured bearer token.");
            }
        }
        else if (!NetworkAllowList.Contains(settings.Networks, context.Connection.RemoteIpAddress))
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden,
                detail: $"The admission endpoint answers the networks in {AdmissionOptions.Section}:AllowedNetworks, or callers with "
                    + $"{AdmissionOptions.Section}:BearerToken once one is set.");
        }

        JsonNode? review;
        try
        {
            // The body is bounded while it is read (RequestBodyLimits): past MaxRequestBytes reading stops with a 413.
            review = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: ct);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
                detail: $"An AdmissionReview of more than {settings.MaxRequestBytes} bytes is not read.");
        }
        catch (JsonException e)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: $"The body is not JSON: {e.Message}");
        }

        using var span = DashboardTelemetry.Source.StartActivity("admission review");
        try
        {
            var response = await answer(review);
            if (span is not null && response["response"] is JsonObject verdict)
            {
                span.SetTag("dashboard.admission.kind", review?["request"]?["kind"]?["kind"]?.ToString())
                    .SetTag("dashboard.namespace", review?["request"]?["namespace"]?.ToString())
                    .SetTag("dashboard.admission.allowed", verdict["allowed"]?.GetValue<bool>());
            }

            return Results.Json(response);
        }
        catch (MalformedAdmissionException e)
        {
            logger.LogInformation("A malformed AdmissionReview was refused: {Reason}", e.Message);
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "malformed AdmissionReview");
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: e.Message);
        }
    }

    private static bool HasToken(HttpRequest request, string expected)
    {
        var header = request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        return header.StartsWith(prefix, StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[prefix.Length..].Trim()), Encoding.UTF8.GetBytes(expected));
    }

    /// <summary>Writes the decisions the admission endpoint queued, in batches, for the app's lifetime.</summary>
    private sealed class AdmissionDecisionWriter(AdmissionDecisionLog decisions) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            try
            {
                await decisions.WriteAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down.
            }
        }
    }
}
