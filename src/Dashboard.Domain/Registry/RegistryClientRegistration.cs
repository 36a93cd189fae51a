using System.Net;
using Dashboard.Domain.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Dashboard.Domain.Registry;

/// <summary>
/// Composes the registry client from <see cref="IHttpClientFactory"/> handlers, outermost first (why this order:
/// docs/decisions/0014-registry-client-composition.md):
/// route (the mirror seam) → rate-limit observer → authentication → retries → per-host bounds → attempt timeout →
/// redirects → request count → the guarded connections.
/// </summary>
public static class RegistryClientRegistration
{
    /// <summary>The name of the <see cref="HttpClient"/> the registry client sends with.</summary>
    public const string Name = "registry";

    /// <summary>
    /// Registers <see cref="RegistryClient"/> and what its handlers share. Bounds come from a <see cref="RegistryThrottle"/>
    /// registered before (the domain wires the scheduler's settings), else none.
    /// </summary>
    public static IServiceCollection AddRegistryClient(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => new RegistryThrottle(TimeProvider.System));
        services.TryAddSingleton<RegistryPauses>();
        services.TryAddSingleton<RegistrySchemes>();
        services.TryAddSingleton<AuthorizationCache>();
        services.TryAddSingleton<RegistryTraffic>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRegistryAuthenticator, BasicAuthenticator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRegistryAuthenticator, TokenServiceAuthenticator>());
        services.TryAddTransient<RegistryRouteHandler>();
        services.TryAddTransient<RateLimitObserver>();
        services.TryAddTransient<AuthenticationHandler>();
        services.TryAddTransient<RegistryBoundsHandler>();
        services.TryAddTransient<RedirectHandler>();
        services.TryAddTransient<RequestCounter>();
        // Held by singletons for the life of the process: the connections renew themselves (PooledConnectionLifetime).
        services.TryAddSingleton<RegistryClient>();
        var client = services.AddHttpClient(Name)
            .ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan)
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider => new GuardedConnections(provider.GetRequiredService<IOptions<RegistryOptions>>().Value))
            .AddHttpMessageHandler<RegistryRouteHandler>()
            .AddHttpMessageHandler<RateLimitObserver>()
            .AddHttpMessageHandler<AuthenticationHandler>();
        client.AddResilienceHandler("retries", (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<RegistryOptions>>().Value;
            var clock = context.ServiceProvider.GetRequiredService<TimeProvider>();
            pipeline.TimeProvider = clock;
            if (options.MaxRetries > 0)
            {
                pipeline.AddRetry(Retries(options, clock));
            }
        });
        client.AddHttpMessageHandler<RegistryBoundsHandler>();
        // Per attempt, after the bounds: waiting for a slot is not the registry's slowness. Wall-clock time even where
        // schedules are tested with a fake clock.
        client.AddResilienceHandler("attempt-timeout", (pipeline, context) =>
        {
            pipeline.TimeProvider = TimeProvider.System;
            pipeline.AddTimeout(TimeSpan.FromSeconds(context.ServiceProvider.GetRequiredService<IOptions<RegistryOptions>>().Value.RequestTimeoutSeconds));
        });
        client.AddHttpMessageHandler<RedirectHandler>()
            .AddHttpMessageHandler<RequestCounter>();
        return services;
    }

    /// <summary>
    /// Distribution API calls only (a token or probe request is not retried): a connection error, no answer in time, a
    /// 5xx, or a 429 whose <c>Retry-After</c> is within <see cref="RegistryOptions.MaxRetryAfterSeconds"/>, with doubling
    /// back-off from 200 ms or the wait the registry asked for. A connection the outbound guard refused is final.
    /// </summary>
    private static HttpRetryStrategyOptions Retries(RegistryOptions options, TimeProvider clock) => new()
    {
        MaxRetryAttempts = options.MaxRetries,
        BackoffType = DelayBackoffType.Exponential,
        Delay = TimeSpan.FromMilliseconds(200),
        UseJitter = false,
        ShouldRetryAfterHeader = true,
        ShouldHandle = args => ValueTask.FromResult(args.Context.GetRequestMessage()?.Call() is not null && args.Outcome switch
        {
            { Exception: HttpRequestException { InnerException: OutboundRefusedException } } => false,
            { Exception: { } e } => RegistryException.IsTransient(e, args.Context.CancellationToken),
            { Result.StatusCode: HttpStatusCode.TooManyRequests } answer =>
                RateLimitObserver.RetryAfter(answer.Result!, clock) <= TimeSpan.FromSeconds(options.MaxRetryAfterSeconds),
            { Result: { } answer } => (int)answer.StatusCode >= 500,
            _ => false,
        }),
    };
}
