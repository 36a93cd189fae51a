using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace Dashboard.Hosting;

/// <summary>
/// No client ever sees a stack trace. Domain refusals are turned into problem details by the API's endpoint filter;
/// what reaches this point is a request the framework could not read (400 with the reason) or a fault of ours (500,
/// logged with a trace id the user can quote).
/// </summary>
internal static class ErrorHandling
{
    public static void AddErrorHandling(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = context.HttpContext.Features.Get<IHttpActivityFeature>()?.Activity.Id
                ?? context.HttpContext.TraceIdentifier);
        services.AddExceptionHandler<ClientErrorHandler>();
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
    }

    public static void UseErrorHandling(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is BadHttpRequestException bad ? ClientError(bad).StatusCode : StatusCodes.Status500InternalServerError,
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException,
        });
        app.UseStatusCodePages(async context =>
        {
            // Only API clients get a body for a bare status; pages have their own.
            if (context.HttpContext.Request.Path.StartsWithSegments("/api"))
            {
                var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    // The parameter binder answers a body cut at its bound by itself, without the reason.
                    ProblemDetails = context.HttpContext.Response.StatusCode == StatusCodes.Status413PayloadTooLarge
                        ? new ProblemDetails { Detail = RequestBodyLimits.TooLarge(RequestBodyLimits.MaxRequestBytes).Message }
                        : new ProblemDetails(),
                });
            }
        });
    }

    /// <summary>The framework's message, plus what the JSON reader said (it names the property: <c>Path: $.role</c>).</summary>
    private static string Describe(BadHttpRequestException bad) =>
        bad.InnerException is System.Text.Json.JsonException json ? $"{bad.Message} {json.Message}" : bad.Message;

    /// <summary>
    /// The refusal that says most: a body cut at its bound (413) stays a 413 when the parameter binder wraps it in its
    /// own "could not read the body" (400).
    /// </summary>
    private static BadHttpRequestException ClientError(BadHttpRequestException bad) =>
        bad.InnerException is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } tooLarge ? tooLarge : bad;

    /// <summary>A body that is not JSON, a missing or unreadable parameter: the framework's message says which.</summary>
    private sealed class ClientErrorHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
        {
            var problem = exception is BadHttpRequestException wrapped && ClientError(wrapped) is var bad
                ? new ProblemDetails { Status = bad.StatusCode, Title = "The request could not be read.", Detail = Describe(bad) }
                : new ProblemDetails
                {
                    Status = StatusCodes.Status500InternalServerError,
                    Title = "Something went wrong on our side.",
                    Detail = "The error was logged; quote the trace id when you report it.",
                };
            context.Response.StatusCode = problem.Status!.Value;
            if (context.Request.Path.StartsWithSegments("/api") || exception is BadHttpRequestException)
            {
                return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, Exception = exception, ProblemDetails = problem });
            }

            // A page: a short HTML answer with the trace id, never the exception.
            var traceId = System.Net.WebUtility.HtmlEncode(context.Features.Get<IHttpActivityFeature>()?.Activity.Id ?? context.TraceIdentifier);
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync($"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head><body>" +
                $"<h1>Something went wrong</h1><p>The error was logged. Quote trace id <code>{traceId}</code> when you report it.</p>" +
                "<p><a href=\"/\">Back to the console</a></p></body></html>", ct);
            return true;
        }
    }
}
