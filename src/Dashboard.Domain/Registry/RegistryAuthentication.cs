using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Dashboard.Domain.Registry;

/// <summary>
/// Answers one <c>WWW-Authenticate</c> scheme. One class per scheme: a new scheme is a new class registered beside
/// <see cref="BasicAuthenticator"/> and <see cref="TokenServiceAuthenticator"/>.
/// </summary>
public interface IRegistryAuthenticator
{
    /// <summary>The challenge scheme it answers, e.g. <c>Basic</c>.</summary>
    string Scheme { get; }

    /// <summary>The <c>Authorization</c> to send for the request that was challenged, and until when it holds.</summary>
    Task<RegistryAuthorization> AuthenticateAsync(AuthenticationRequest request, CancellationToken ct);
}

/// <summary>An authorization to send, until <paramref name="Expires"/>.</summary>
public sealed record RegistryAuthorization(AuthenticationHeaderValue Header, DateTime Expires);

/// <summary>
/// A challenge to answer: for which target and token scope, and how to send the authenticator's own requests (they go
/// through the outbound guard and the request count, and nothing else).
/// </summary>
public sealed record AuthenticationRequest(RegistryTarget Target, AuthChallenge Challenge, string Scope,
    Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> Send)
{
    public string Who => Describe(Target);

    /// <summary>A challenge the dashboard does not answer, or a token service it will not send credentials to.</summary>
    public static RegistryException NoTokenService(RegistryTarget target) => new(RegistryFailure.Unauthorized,
        $"{target.Registry} refused {Describe(target)} and named no token service the dashboard may send credentials to.");

    private static string Describe(RegistryTarget target) =>
        target.Credential is null ? "anonymous access" : $"the credentials of '{target.Credential.Username}'";

    public static AuthenticationHeaderValue Basic(RegistryCredential credential) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
}

/// <summary>
/// Authorizations per API host, token scope and credential (its fingerprint, not the user name: a changed password must
/// not reuse the old token), sent with the next request before any challenge.
/// </summary>
public sealed class AuthorizationCache(TimeProvider clock)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Host, string Scope, string? Credential), RegistryAuthorization> _entries = new();

    public AuthenticationHeaderValue? Find(string host, string scope, RegistryCredential? credential) =>
        _entries.TryGetValue((host, scope, credential?.Fingerprint), out var cached) && cached.Expires > clock.GetUtcNow().UtcDateTime
            ? cached.Header
            : null;

    public void Keep(string host, string scope, RegistryCredential? credential, RegistryAuthorization authorization) =>
        _entries[(host, scope, credential?.Fingerprint)] = authorization;
}

/// <summary>
/// Sends the cached authorization for the host, scope and credential; on a 401 from the registry itself, asks the
/// authenticator of the challenge's scheme and sends once more. A 401 from another host a redirect led to (blob storage)
/// is that host's business: credentials never go there.
/// </summary>
public sealed class AuthenticationHandler(IEnumerable<IRegistryAuthenticator> authenticators, AuthorizationCache cache) : RegistryCallHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, RegistryTarget target, RegistryCall call, CancellationToken ct)
    {
        var host = request.RequestUri!.Authority;
        request.Headers.Authorization = cache.Find(host, call.Scope, target.Credential);
        var response = await SendOnAsync(request, ct);
        if (response.StatusCode != HttpStatusCode.Unauthorized
            || response.RequestMessage?.RequestUri?.Authority.Equals(host, StringComparison.OrdinalIgnoreCase) == false)
        {
            return response;
        }

        var challenge = AuthChallenge.Parse(response.Headers.WwwAuthenticate.ToString());
        response.Dispose();
        var authenticator = authenticators.FirstOrDefault(a => a.Scheme.Equals(challenge?.Scheme, StringComparison.OrdinalIgnoreCase))
            ?? throw AuthenticationRequest.NoTokenService(target);
        var authorization = await authenticator.AuthenticateAsync(new AuthenticationRequest(target, challenge!, call.Scope, SendOnAsync), ct);
        cache.Keep(host, call.Scope, target.Credential, authorization);
        request.Headers.Authorization = authorization.Header;
        return await SendOnAsync(request, ct);
    }
}

/// <summary>HTTP Basic (RFC 7617): the credential itself, on every request to the registry.</summary>
public sealed class BasicAuthenticator : IRegistryAuthenticator
{
    public string Scheme => "Basic";

    public Task<RegistryAuthorization> AuthenticateAsync(AuthenticationRequest request, CancellationToken ct) =>
        request.Target.Credential is { } credential
            ? Task.FromResult(new RegistryAuthorization(AuthenticationRequest.Basic(credential), DateTime.MaxValue))
            : throw new RegistryException(RegistryFailure.Unauthorized, $"{request.Target.Registry} needs a login: add a pull secret for it to the namespace.");
}
