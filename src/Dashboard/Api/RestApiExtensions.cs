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
            .AddEndpointFilter<DomainErrorFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapNamespacesApi();
        api.MapImageStreamsApi();
        api.MapImageStreamTagsApi();
        api.MapRepositoryImportsApi();
        api.MapImagesApi();
        api.MapTokensApi();
        api.MapUsersApi();
        api.MapEventsApi();
        api.MapSchedulesApi();
        api.MapPullSecretsApi();
        api.MapSettingsApi();
        api.MapMirrorsApi();
        api.MapWebhooksApi();
        api.MapPolicyApi();
        api.MapTrustedKeysApi();
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
