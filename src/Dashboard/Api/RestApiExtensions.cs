using System.Text.Json.Serialization;
using Dashboard.Domain;
using Dashboard.Domain.Registry;
using Dashboard.Security;

namespace Dashboard.Api;

internal static class RestApiExtensions
{
    public static void AddRestApi(this WebApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(options =>
            // Names only: a number would be stored as a role or mode that does not exist.
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(allowIntegerValues: false)));
        builder.Services.AddOpenApi("v1");
    }

    /// <summary>REST API v1 under /api/v1 (signed-in users; admin-only groups say so), and its OpenAPI document.</summary>
    public static void MapRestApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").RequireAuthorization();

        var api = app.MapGroup("/api/v1")
            .RequireAuthorization()
            .AddEndpointFilter<CookieRequestForgeryFilter>()
            .AddEndpointFilter<DomainErrorFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapNamespacesApi();
        api.MapImageStreamsApi();
        api.MapImagesApi();
        api.MapTokensApi();
        api.MapUsersApi();
        api.MapEventsApi();
        api.MapPullSecretsApi();
        api.MapImportApi();
        api.MapSettingsApi();
        api.MapWebhooksApi();
        api.MapPolicyApi();
    }

    /// <summary>
    /// A change asked with the browser's session cookie (no <c>Authorization</c> header) must prove it comes from the
    /// dashboard's own pages: an antiforgery token, or the <c>X-Requested-With</c> header, which a form or page of another
    /// site cannot send without a CORS preflight this app never grants. <c>SameSite=Strict</c> alone is not a boundary
    /// (a sibling subdomain is same-site). Scripts with Basic, a personal access token or Bearer are not affected.
    /// </summary>
    private sealed class CookieRequestForgeryFilter(Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery) : IEndpointFilter
    {
        public const string Header = "X-Requested-With";

        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            var http = context.HttpContext;
            var request = http.Request;
            var unsafeMethod = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method));
            if (unsafeMethod && request.Headers.Authorization.Count == 0 && http.User.Identity?.IsAuthenticated == true
                && request.Headers[Header].Count == 0 && !await antiforgery.IsRequestValidAsync(http))
            {
                return TypedResults.Problem(
                    $"A change made with a session cookie needs an antiforgery token or the {Header} header; scripts use a personal access token.",
                    statusCode: StatusCodes.Status400BadRequest, title: "Cross-site request refused");
            }

            return await next(context);
        }
    }

    /// <summary>Turns a domain refusal into RFC 7807 problem details with the status that fits it.</summary>
    private sealed class DomainErrorFilter : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            try
            {
                return await next(context);
            }
            catch (ValidationFailedException e)
            {
                return TypedResults.ValidationProblem(e.Errors.ToDictionary(), title: "The request is not valid.", detail: e.Message);
            }
            catch (ConflictException e)
            {
                return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict",
                    extensions: new Dictionary<string, object?> { ["field"] = e.Field });
            }
            catch (NotFoundException e)
            {
                return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status404NotFound, title: "Not found");
            }
            catch (ForbiddenException e)
            {
                return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
            }
            catch (RegistryException e)
            {
                // The upstream registry's answer, not ours: 422 when the request names something the registry refuses or
                // lacks, 502 when the registry could not be reached or is rate-limiting.
                var status = e.Reason is RegistryFailure.Unreachable or RegistryFailure.RateLimited
                    ? StatusCodes.Status502BadGateway
                    : StatusCodes.Status422UnprocessableEntity;
                return TypedResults.Problem(e.Message, statusCode: status, title: "The registry did not serve the request",
                    extensions: new Dictionary<string, object?> { ["reason"] = e.Reason.ToString() });
            }
        }
    }
}
