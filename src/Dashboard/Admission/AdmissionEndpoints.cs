using System.Security.Cryptography;
using System.Text;
using Dashboard.Domain.Diagnostics;
using Dashboard.Domain.Policy;
using Dashboard.Domain.Proxy;
using Dashboard.Hosting;
using Microsoft.Extensions.Options;

namespace Dashboard.Admission;

internal static class AdmissionEndpoints
{
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

    private static Task<IResult> ValidateAsync(HttpContext context, AdmissionWebhook webhook, IOptionsMonitor<AdmissionOptions> options,
        ILogger<AdmissionWebhook> logger, CancellationToken ct) =>
        AnswerAsync(context, options.CurrentValue, logger, review => webhook.ValidateAsync(review, ct), ct);

    private static Task<IResult> MutateAsync(HttpContext context, AdmissionWebhook webhook, IOptionsMonitor<AdmissionOptions> options,
        IOptions<ProxyOptions> proxy, ILogger<AdmissionWebhook> logger, CancellationToken ct) =>
        AnswerAsync(context, options.CurrentValue, logger, review => webhook.MutateAsync(review, options.CurrentValue.ResolveImages, proxy.Value.PublicHost, ct), ct);

    private static async Task<IResult> AnswerAsync(HttpContext context, AdmissionOptions settings, ILogger logger,
        Func<ReceivedReview, Task<AdmissionAnswer>> answer, CancellationToken ct)
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

        using var span = DashboardTelemetry.Source.StartActivity("admission review");
        try
        {
            // The body is bounded while it is read (RequestBodyLimits): past MaxRequestBytes reading stops with a 413.
            var review = await AdmissionReviewReader.ReadAsync(context.Request.Body, ct);
            var response = await answer(review);
            span?.SetTag("dashboard.admission.kind", review.Question.Kind)
                .SetTag("dashboard.namespace", review.Question.Namespace)
                .SetTag("dashboard.admission.allowed", response.Response.Allowed);
            return TypedResults.Json(response, AdmissionJson.Default.AdmissionAnswer);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
                detail: $"An AdmissionReview of more than {settings.MaxRequestBytes} bytes is not read.");
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
}
