using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Registry;

/// <summary>
/// <c>Bearer</c>: a token from the token service the challenge names (distribution's token authentication,
/// https://distribution.github.io/distribution/spec/auth/token/), asked for the request's scope with the credential as
/// Basic. Tokens are kept until shortly before <c>expires_in</c>.
/// </summary>
public sealed class TokenServiceAuthenticator(IOptions<RegistryOptions> options, TimeProvider clock, ILogger<TokenServiceAuthenticator> logger)
    : IRegistryAuthenticator
{
    private const int MaxTokenBytes = 1024 * 1024;

    public string Scheme => "Bearer";

    public async Task<RegistryAuthorization> AuthenticateAsync(AuthenticationRequest request, CancellationToken ct)
    {
        var (target, challenge) = (request.Target, request.Challenge);
        if (challenge.Realm is not { } realm || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri)
            || (realmUri.Scheme != Uri.UriSchemeHttps && !(realmUri.Scheme == Uri.UriSchemeHttp && target.Insecure)))
        {
            // Credentials go only to an HTTPS token service (plain HTTP only for an insecure source).
            throw AuthenticationRequest.NoTokenService(target);
        }

        var query = new List<string>();
        if (challenge.Service is { } service)
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        var tokenScope = string.IsNullOrEmpty(request.Scope) ? challenge.Scope : request.Scope;
        if (!string.IsNullOrEmpty(tokenScope))
        {
            query.Add("scope=" + Uri.EscapeDataString(tokenScope));
        }

        using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(realmUri) { Query = string.Join("&", query) }.Uri).ForTarget(target);
        if (target.Credential is { } credential)
        {
            // The realm may be another host than the registry (Docker Hub: auth.docker.io).
            tokenRequest.Headers.Authorization = AuthenticationRequest.Basic(credential);
        }

        HttpResponseMessage response;
        try
        {
            response = await request.Send(tokenRequest, ct);
        }
        catch (Exception e) when (RegistryException.IsTransient(e, ct))
        {
            throw RegistryException.Unreachable(realmUri.Authority, e, options.Value.RequestTimeoutSeconds, logger);
        }

        using (response)
        {
            if (response.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
            {
                throw new RegistryException(RegistryFailure.Unauthorized, $"The token service of {target.Registry} refused {request.Who}.");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new RegistryException(RegistryFailure.Unreachable, $"The token service of {target.Registry} answered {(int)response.StatusCode}.");
            }

            var body = await RegistryClient.ReadCappedAsync(response, MaxTokenBytes, "token", options.Value.RequestTimeoutSeconds, ct);
            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                var token = (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null)
                    ?? (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null)
                    ?? throw new JsonException("no token in the answer");
                var lifetime = root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var seconds) && seconds > 0
                    ? seconds
                    : 60;
                // Renew a little early, so a token never expires between the check and the request.
                var expires = clock.GetUtcNow().UtcDateTime.AddSeconds(Math.Max(lifetime - 10, lifetime / 2));
                return new RegistryAuthorization(new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token), expires);
            }
            catch (JsonException e)
            {
                throw new RegistryException(RegistryFailure.Unauthorized, $"The token service of {target.Registry} sent an unreadable answer: {e.Message}");
            }
        }
    }
}
