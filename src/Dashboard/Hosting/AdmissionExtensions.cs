using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Domain.Policy;
using Microsoft.Extensions.Options;

namespace Dashboard.Hosting;

/// <summary>The <c>Dashboard:Admission</c> settings.</summary>
public sealed class AdmissionOptions
{
    public const string Section = "Dashboard:Admission";

    /// <summary>
    /// When set, the admission endpoints answer only requests with <c>Authorization: Bearer &lt;this&gt;</c> — the token the
    /// API server presents through its admission kubeconfig. Empty: no token is asked for.
    /// </summary>
    public string? BearerToken { get; set; }

    /// <summary>How long admission decisions are kept for the decisions page.</summary>
    [Range(1, 3650)]
    public int DecisionRetentionDays { get; set; } = 7;

    /// <summary>The largest AdmissionReview read (the API server sends up to about 3 MiB).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 4 * 1024 * 1024;
}

internal static class AdmissionExtensions
{
    public static void AddAdmission(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdmissionOptions>().BindConfiguration(AdmissionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<AdmissionDecisionWriter>();
    }

    /// <summary>
    /// <c>POST /admission/validate</c>: Kubernetes' validating admission webhook. No dashboard session (the cluster's API
    /// server calls it); it discloses nothing but decisions, and asks for a bearer token when one is configured.
    /// </summary>
    public static void MapAdmission(this WebApplication app) =>
        app.MapPost("/admission/validate", ValidateAsync).AllowAnonymous().ExcludeFromDescription();

    private static async Task<IResult> ValidateAsync(HttpContext context, AdmissionService admission, IOptionsMonitor<AdmissionOptions> options,
        ILogger<AdmissionService> logger, CancellationToken ct)
    {
        var settings = options.CurrentValue;
        if (!string.IsNullOrEmpty(settings.BearerToken) && !HasToken(context.Request, settings.BearerToken))
        {
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, detail: "The admission endpoint needs the configured bearer token.");
        }

        JsonNode? review;
        try
        {
            if (context.Request.ContentLength > settings.MaxRequestBytes)
            {
                return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
                    detail: $"An AdmissionReview of more than {settings.MaxRequestBytes} bytes is not read.");
            }

            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, ct);
            if (body.Length > settings.MaxRequestBytes)
            {
                return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
                    detail: $"An AdmissionReview of more than {settings.MaxRequestBytes} bytes is not read.");
            }

            review = JsonNode.Parse(body.ToArray());
        }
        catch (JsonException e)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: $"The body is not JSON: {e.Message}");
        }

        try
        {
            return Results.Json(await admission.ValidateAsync(review, ct));
        }
        catch (MalformedAdmissionException e)
        {
            logger.LogInformation("A malformed AdmissionReview was refused: {Reason}", e.Message);
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
    private sealed class AdmissionDecisionWriter(AdmissionService admission) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            try
            {
                await admission.WriteDecisionsAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down.
            }
        }
    }
}
