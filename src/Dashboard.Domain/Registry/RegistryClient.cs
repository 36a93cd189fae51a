using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dashboard.Domain.Images;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Registry;

/// <summary>A manifest as the registry served it, its digest verified.</summary>
public sealed record ManifestResponse(Digest Digest, string MediaType, byte[] Content);

/// <summary>A repository's tag names as listed, and whether the listing was cut at its bound.</summary>
public sealed record TagListing(IReadOnlyList<string> Tags, bool Cut);

/// <summary>
/// The read side of the OCI distribution API (https://github.com/opencontainers/distribution-spec/blob/main/spec.md):
/// ping, tag listing with <c>Link</c> paging, manifests (GET and HEAD, digests verified), blobs. Authenticates the way
/// registries do (Basic, or Bearer tokens from the challenge's realm, cached per registry and scope), retries 5xx and
/// connection errors with back-off, honours a bounded <c>Retry-After</c> on 429, never follows a redirect with
/// credentials to another host, and connects only to addresses the <see cref="OutboundGuard"/> allows.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    public const int MaxManifestBytes = 4 * 1024 * 1024;
    public const int MaxConfigBytes = 8 * 1024 * 1024;
    private const int MaxTagPages = 200;
    private const int MaxRedirects = 5;

    private readonly HttpClient _secure;
    private readonly HttpClient _insecure;
    private readonly RegistryOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<RegistryClient> _logger;
    private readonly ConcurrentDictionary<(string Host, string Scope, string? User), (string Header, DateTime Expires)> _authorizations = new();
    private readonly ConcurrentDictionary<string, string> _schemes = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, RateLimitState> _rateLimits = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DateTime> _pausedUntil = new(StringComparer.OrdinalIgnoreCase);

    private readonly RegistryThrottle _throttle;

    public RegistryClient(IOptions<RegistryOptions> options, TimeProvider clock, ILogger<RegistryClient> logger, RegistryThrottle? throttle = null)
    {
        _options = options.Value;
        _throttle = throttle ?? new RegistryThrottle(TimeProvider.System);
        _clock = clock;
        _logger = logger;
        var guard = new OutboundGuard(_options.AllowLoopback);
        _secure = CreateClient(guard, verifyTls: true);
        _insecure = CreateClient(guard, verifyTls: false);
    }

    /// <summary>The rate-limit headers each registry sent last, for the scheduler.</summary>
    public IReadOnlyDictionary<string, RateLimitState> RateLimits => _rateLimits;

    /// <summary>
    /// Until when scheduled work should leave <paramref name="registry"/> alone: after a 429 it gave up on (for its
    /// <c>Retry-After</c>), or while its <c>RateLimit-Remaining</c> is at the floor (for the header's window).
    /// <c>null</c> when it is not paused.
    /// </summary>
    public DateTime? PausedUntil(string registry) =>
        _pausedUntil.TryGetValue(registry, out var until) && until > _clock.GetUtcNow().UtcDateTime ? until : null;

    /// <summary>The registries paused now, with the time each resumes.</summary>
    public IReadOnlyDictionary<string, DateTime> PausedRegistries()
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        return _pausedUntil.Where(p => p.Value > now).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>How many HTTP requests went out (for benchmarks and tests that count registry traffic).</summary>
    public long RequestCount => Interlocked.Read(ref _requestCount);

    private long _requestCount;

    /// <summary><c>GET /v2/</c>: the registry answers and accepts the credentials.</summary>
    public async Task PingAsync(RegistryTarget target, CancellationToken ct)
    {
        using var response = await SendAsync(target, HttpMethod.Get, "/v2/", "", null, ct);
        await EnsureSuccessAsync(target, response, "the registry", ct);
    }

    /// <summary>
    /// The tags of a repository, following <c>Link: &lt;…&gt;; rel="next"</c> pages, up to <paramref name="maxTags"/>
    /// names: a listing that holds more is cut there, and says so.
    /// </summary>
    public async Task<TagListing> ListTagsAsync(RegistryTarget target, string repository, CancellationToken ct, int maxTags = 10_000)
    {
        var tags = new List<string>();
        var path = $"/v2/{repository}/tags/list?n=1000";
        for (var page = 0; page < MaxTagPages && path is not null; page++)
        {
            if (tags.Count >= maxTags)
            {
                return new TagListing(tags, Cut: true);
            }

            using var response = await SendAsync(target, HttpMethod.Get, path, PullScope(repository), null, ct);
            await EnsureSuccessAsync(target, response, $"repository {repository}", ct);
            var body = await ReadCappedAsync(response, MaxManifestBytes, "tag list", ct);
            try
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("tags", out var list) && list.ValueKind == JsonValueKind.Array)
                {
                    tags.AddRange(list.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!)
                        .Take(maxTags - tags.Count + 1));
                    if (tags.Count > maxTags)
                    {
                        tags.RemoveRange(maxTags, tags.Count - maxTags);
                        return new TagListing(tags, Cut: true);
                    }
                }
            }
            catch (JsonException e)
            {
                throw new RegistryException(RegistryFailure.InvalidManifest, $"The tag list of {repository} is not valid JSON: {e.Message}");
            }

            path = NextPage(response);
        }

        return new TagListing(tags, Cut: path is not null);
    }

    /// <summary>
    /// Fetches a manifest by tag or digest and verifies its digest: against the digest asked for, and against
    /// <c>Docker-Content-Digest</c> when the registry sends one.
    /// </summary>
    public async Task<ManifestResponse> GetManifestAsync(RegistryTarget target, string repository, string reference, CancellationToken ct)
    {
        using var response = await SendAsync(target, HttpMethod.Get, $"/v2/{repository}/manifests/{reference}", PullScope(repository), MediaTypes.AcceptedManifests, ct);
        await EnsureSuccessAsync(target, response, $"{repository}:{reference}", ct);
        var content = await ReadCappedAsync(response, MaxManifestBytes, "manifest", ct);
        var digest = Digest.Sha256(content);
        if (Digest.TryParse(reference, out var asked, out _) && !asked.Matches(content))
        {
            throw new RegistryException(RegistryFailure.InvalidManifest,
                $"The manifest served for {repository}@{asked} has digest {digest}: the registry sent other content than asked for.");
        }

        if (HeaderDigest(response) is { } claimed && !claimed.Matches(content))
        {
            throw new RegistryException(RegistryFailure.InvalidManifest,
                $"The manifest of {repository}:{reference} has digest {digest} but the registry says {claimed}.");
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
        return new ManifestResponse(digest, mediaType, content);
    }

    /// <summary><c>HEAD</c> of a manifest: its digest without downloading it (free of Docker Hub's pull limit), or <c>null</c> when the registry sends none.</summary>
    public async Task<Digest?> HeadManifestAsync(RegistryTarget target, string repository, string reference, CancellationToken ct)
    {
        using var response = await SendAsync(target, HttpMethod.Head, $"/v2/{repository}/manifests/{reference}", PullScope(repository), MediaTypes.AcceptedManifests, ct);
        await EnsureSuccessAsync(target, response, $"{repository}:{reference}", ct);
        return HeaderDigest(response);
    }

    /// <summary>A blob (an image config), at most <paramref name="maxBytes"/>, verified against its digest.</summary>
    public async Task<byte[]> GetBlobAsync(RegistryTarget target, string repository, Digest digest, int maxBytes, CancellationToken ct)
    {
        using var response = await SendAsync(target, HttpMethod.Get, $"/v2/{repository}/blobs/{digest}", PullScope(repository), null, ct);
        await EnsureSuccessAsync(target, response, $"blob {digest.Short} of {repository}", ct);
        var content = await ReadCappedAsync(response, maxBytes, "image config", ct);
        if (!digest.Matches(content))
        {
            throw new RegistryException(RegistryFailure.InvalidManifest, $"Blob {digest} of {repository} does not match its digest.");
        }

        return content;
    }

    /// <summary>
    /// Opens a blob for streaming (the caller reads and disposes the answer): a whole blob, or the <paramref name="range"/>
    /// the client asked for. Null when this repository does not have it.
    /// </summary>
    /// <remarks>
    /// With <paramref name="keepOffload"/>, a redirect to another host (blob storage) is returned as it is instead of being
    /// followed: its <c>Location</c> is the upstream's own URL and carries none of the dashboard's credentials.
    /// </remarks>
    public async Task<HttpResponseMessage?> OpenBlobAsync(RegistryTarget target, string repository, Digest digest, bool head, string? range,
        CancellationToken ct, bool keepOffload = false)
    {
        var response = await SendAsync(target, head ? HttpMethod.Head : HttpMethod.Get, $"/v2/{repository}/blobs/{digest}", PullScope(repository), null, ct,
            range, keepOffload);
        if ((int)response.StatusCode is >= 300 and < 400)
        {
            return response;
        }

        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                await EnsureSuccessAsync(target, response, $"blob {digest.Short} of {repository}", ct);
            }
        }

        return response;
    }

    /// <summary>The size of a blob from a <c>HEAD</c>, for manifests that do not state their layers' sizes.</summary>
    public async Task<long?> HeadBlobSizeAsync(RegistryTarget target, string repository, Digest digest, CancellationToken ct)
    {
        using var response = await SendAsync(target, HttpMethod.Head, $"/v2/{repository}/blobs/{digest}", PullScope(repository), null, ct);
        await EnsureSuccessAsync(target, response, $"blob {digest.Short} of {repository}", ct);
        return response.Content.Headers.ContentLength;
    }

    public void Dispose()
    {
        _secure.Dispose();
        _insecure.Dispose();
    }

    private static string PullScope(string repository) => $"repository:{repository}:pull";

    /// <summary>Tokens are cached per credential, not per user name: a changed password must not reuse the old token.</summary>
    private static string? CredentialKey(RegistryCredential? credential) => credential?.Fingerprint;

    private async Task<HttpResponseMessage> SendAsync(RegistryTarget target, HttpMethod method, string pathAndQuery, string scope,
        string[]? accept, CancellationToken ct, string? range = null, bool keepOffload = false)
    {
        var failures = 0;
        var authenticated = false;
        while (true)
        {
            var baseUri = await BaseUriAsync(target, ct);
            var cacheKey = (target.ApiHost, scope, CredentialKey(target.Credential));
            var authorization = _authorizations.TryGetValue(cacheKey, out var cached) && cached.Expires > _clock.GetUtcNow().UtcDateTime
                ? cached.Header
                : null;
            HttpResponseMessage response;
            try
            {
                // The slot is held until the answer's headers arrive: bodies are small (manifests, configs) and capped.
                using var slot = await _throttle.EnterAsync(target.Registry, ct);
                response = await SendFollowingRedirectsAsync(target, method, new Uri(baseUri, pathAndQuery), authorization, accept, ct, range, keepOffload);
            }
            catch (Exception e) when (Transient(e, ct))
            {
                if (++failures > _options.MaxRetries)
                {
                    throw Unreachable(target, e);
                }

                await DelayAsync(Backoff(failures), ct);
                continue;
            }

            RecordRateLimit(target, response);
            // A 401 from the host a redirect led to (blob storage) is its own business: credentials never go there.
            var sameHost = response.RequestMessage?.RequestUri?.Authority.Equals(baseUri.Authority, StringComparison.OrdinalIgnoreCase) != false;
            switch (response.StatusCode)
            {
                case HttpStatusCode.Unauthorized when !authenticated && sameHost:
                    var challenge = AuthChallenge.Parse(response.Headers.WwwAuthenticate.ToString());
                    response.Dispose();
                    await AuthenticateAsync(target, challenge, scope, cacheKey, ct);
                    authenticated = true;
                    continue;
                case HttpStatusCode.TooManyRequests:
                    var wait = RetryAfter(response);
                    response.Dispose();
                    if (++failures > _options.MaxRetries || wait > TimeSpan.FromSeconds(_options.MaxRetryAfterSeconds))
                    {
                        Pause(target.Registry, wait > TimeSpan.Zero ? wait : TimeSpan.FromMinutes(1));
                        throw new RegistryException(RegistryFailure.RateLimited,
                            $"{target.Registry} is rate-limiting the dashboard (429); it asks to wait {wait.TotalSeconds:0} s.");
                    }

                    await DelayAsync(wait, ct);
                    continue;
                case >= HttpStatusCode.InternalServerError when failures < _options.MaxRetries:
                    response.Dispose();
                    await DelayAsync(Backoff(++failures), ct);
                    continue;
                default:
                    return response;
            }
        }
    }

    /// <summary>Follows redirects by hand: a redirect to another host (blob storage) goes without the Authorization header.</summary>
    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(RegistryTarget target, HttpMethod method, Uri uri, string? authorization,
        string[]? accept, CancellationToken ct, string? range = null, bool keepOffload = false)
    {
        var client = target.Insecure ? _insecure : _secure;
        var origin = uri;
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, uri);
            if (authorization is not null && uri.Authority.Equals(origin.Authority, StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            foreach (var type in accept ?? [])
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            }

            if (range is not null)
            {
                request.Headers.TryAddWithoutValidation("Range", range);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(_options.RequestTimeoutSeconds));
            Interlocked.Increment(ref _requestCount);
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if ((int)response.StatusCode is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location && hop < MaxRedirects)
            {
                uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                if (keepOffload && !uri.Authority.Equals(origin.Authority, StringComparison.OrdinalIgnoreCase))
                {
                    // Content offload (blob storage, a CDN's signed URL): the caller hands the redirect to its own client.
                    return response;
                }

                if (uri.Scheme != Uri.UriSchemeHttps && !target.Insecure)
                {
                    response.Dispose();
                    throw new RegistryException(RegistryFailure.Forbidden, $"{target.Registry} redirected to a plain HTTP address; only insecure sources may use HTTP.");
                }

                response.Dispose();
                continue;
            }

            return response;
        }
    }

    private async Task AuthenticateAsync(RegistryTarget target, AuthChallenge? challenge, string scope,
        (string, string, string?) cacheKey, CancellationToken ct)
    {
        var who = target.Credential is null ? "anonymous access" : $"the credentials of '{target.Credential.Username}'";
        if (challenge is { IsBasic: true })
        {
            if (target.Credential is null)
            {
                throw new RegistryException(RegistryFailure.Unauthorized,
                    $"{target.Registry} needs a login: add a pull secret for it to the namespace.");
            }

            var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{target.Credential.Username}:{target.Credential.Password}"));
            _authorizations[cacheKey] = (basic, DateTime.MaxValue);
            return;
        }

        if (challenge is not { IsBearer: true, Realm: { } realm } || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri)
            || (realmUri.Scheme != Uri.UriSchemeHttps && !(realmUri.Scheme == Uri.UriSchemeHttp && target.Insecure)))
        {
            // Credentials go only to an HTTPS token service (plain HTTP only for an insecure source).
            throw new RegistryException(RegistryFailure.Unauthorized,
                $"{target.Registry} refused {who} and named no token service the dashboard may send credentials to.");
        }

        var query = new List<string>();
        if (challenge.Service is { } service)
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        var tokenScope = string.IsNullOrEmpty(scope) ? challenge.Scope : scope;
        if (!string.IsNullOrEmpty(tokenScope))
        {
            query.Add("scope=" + Uri.EscapeDataString(tokenScope));
        }

        var tokenUri = new UriBuilder(realmUri) { Query = string.Join("&", query) }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Get, tokenUri);
        if (target.Credential is { } credential)
        {
            // Credentials go to the token realm the registry named, which may be another host (Docker Hub: auth.docker.io).
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
        }

        HttpResponseMessage response;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(_options.RequestTimeoutSeconds));
            Interlocked.Increment(ref _requestCount);
            response = await (target.Insecure ? _insecure : _secure).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (Exception e) when (Transient(e, ct))
        {
            throw Unreachable(target with { Registry = realmUri.Authority }, e);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new RegistryException(RegistryFailure.Unauthorized, $"The token service of {target.Registry} refused {who}.");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new RegistryException(RegistryFailure.Unreachable, $"The token service of {target.Registry} answered {(int)response.StatusCode}.");
            }

            var body = await ReadCappedAsync(response, 1024 * 1024, "token", ct);
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
                var expires = _clock.GetUtcNow().UtcDateTime.AddSeconds(Math.Max(lifetime - 10, lifetime / 2));
                _authorizations[cacheKey] = ("Bearer " + token, expires);
            }
            catch (JsonException e)
            {
                throw new RegistryException(RegistryFailure.Unauthorized, $"The token service of {target.Registry} sent an unreadable answer: {e.Message}");
            }
        }
    }

    /// <summary>HTTPS always; an insecure source tries HTTPS (without verifying the certificate) and falls back to plain HTTP.</summary>
    private async Task<Uri> BaseUriAsync(RegistryTarget target, CancellationToken ct)
    {
        if (!target.Insecure)
        {
            return new Uri($"https://{target.ApiHost}");
        }

        if (_schemes.TryGetValue(target.ApiHost, out var known))
        {
            return new Uri($"{known}://{target.ApiHost}");
        }

        try
        {
            using var probe = new HttpRequestMessage(HttpMethod.Get, $"https://{target.ApiHost}/v2/");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(_options.RequestTimeoutSeconds));
            Interlocked.Increment(ref _requestCount);
            using var _ = await _insecure.SendAsync(probe, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            _schemes[target.ApiHost] = "https";
        }
        catch (HttpRequestException e) when (e.InnerException is OutboundRefusedException)
        {
            throw Unreachable(target, e);
        }
        catch (Exception e) when (Transient(e, ct))
        {
            _schemes[target.ApiHost] = "http";
        }

        return new Uri($"{_schemes.GetValueOrDefault(target.ApiHost, "https")}://{target.ApiHost}");
    }

    private async Task EnsureSuccessAsync(RegistryTarget target, HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var detail = response.Content.Headers.ContentLength is > 0 and < 64 * 1024 && response.RequestMessage?.Method != HttpMethod.Head
            ? RegistryErrorMessage(await response.Content.ReadAsStringAsync(ct))
            : null;
        var who = target.Credential is null ? "without credentials" : $"as '{target.Credential.Username}'";
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => new RegistryException(RegistryFailure.Unauthorized,
                $"{target.Registry} refused access to {what} {who}{detail}. Check the namespace's pull secrets."),
            HttpStatusCode.Forbidden => new RegistryException(RegistryFailure.Forbidden, $"{target.Registry} forbids access to {what} {who}{detail}."),
            HttpStatusCode.NotFound => new RegistryException(RegistryFailure.NotFound, $"{what} was not found on {target.Registry}{detail}."),
            _ => new RegistryException(RegistryFailure.Unreachable, $"{target.Registry} answered {(int)response.StatusCode} for {what}{detail}."),
        };
    }

    /// <summary>The spec's error body, <c>{"errors":[{"code","message"}]}</c>, as a short suffix.</summary>
    private static string? RegistryErrorMessage(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var first = document.RootElement.GetProperty("errors")[0];
            return $" ({first.GetProperty("code").GetString()}: {first.GetProperty("message").GetString()})";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Reads a body up to <paramref name="maxBytes"/>, within the request timeout: a registry that trickles cannot hold an import.</summary>
    private async Task<byte[]> ReadCappedAsync(HttpResponseMessage response, int maxBytes, string what, CancellationToken ct)
    {
        var tooLarge = $"The {what} is larger than {Math.Max(1, maxBytes / (1024 * 1024))} MiB; the dashboard does not read it.";
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            throw new RegistryException(RegistryFailure.InvalidManifest, tooLarge);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.RequestTimeoutSeconds));
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, timeout.Token)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    throw new RegistryException(RegistryFailure.InvalidManifest, tooLarge);
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new RegistryException(RegistryFailure.Unreachable,
                $"The {what} from {response.RequestMessage?.RequestUri?.Authority} did not arrive whole within {_options.RequestTimeoutSeconds} s: {e.Message}");
        }
    }

    private static Digest? HeaderDigest(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var digest, out _)
            ? digest
            : null;

    /// <summary>The path of the next page from <c>Link: &lt;/v2/…?last=x&amp;n=…&gt;; rel="next"</c>, only on the same host.</summary>
    private static string? NextPage(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }

        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            var open = link.IndexOf('<');
            var close = link.IndexOf('>');
            if (open >= 0 && close > open && link[close..].Contains("rel=\"next\"", StringComparison.OrdinalIgnoreCase))
            {
                var target = link[(open + 1)..close];
                if (target.StartsWith('/'))
                {
                    // Checked first: on Unix a rooted path also parses as an absolute file: URI.
                    return target;
                }

                if (Uri.TryCreate(target, UriKind.Absolute, out var absolute))
                {
                    return absolute.Authority.Equals(response.RequestMessage?.RequestUri?.Authority, StringComparison.OrdinalIgnoreCase)
                        ? absolute.PathAndQuery
                        : null;
                }

                return null;
            }
        }

        return null;
    }

    private void RecordRateLimit(RegistryTarget target, HttpResponseMessage response)
    {
        static int? Leading(HttpResponseMessage r, string name) =>
            r.Headers.TryGetValues(name, out var values) && int.TryParse(values.First().Split(';')[0], out var n) ? n : null;

        var limit = Leading(response, "RateLimit-Limit");
        var remaining = Leading(response, "RateLimit-Remaining");
        if (limit is not null || remaining is not null)
        {
            _rateLimits[target.Registry] = new RateLimitState(limit, remaining, _clock.GetUtcNow().UtcDateTime);
        }

        if (remaining is { } left && left <= _options.RateLimitFloor)
        {
            // Docker Hub: "RateLimit-Remaining: 7;w=21600" — the window is in seconds.
            var window = response.Headers.TryGetValues("RateLimit-Remaining", out var values)
                && values.First().Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("w=", StringComparison.Ordinal)) is { } w
                && int.TryParse(w[2..], out var seconds) && seconds > 0
                    ? TimeSpan.FromSeconds(seconds)
                    : TimeSpan.FromMinutes(1);
            Pause(target.Registry, window);
        }
    }

    private void Pause(string registry, TimeSpan duration)
    {
        var until = _clock.GetUtcNow().UtcDateTime + duration;
        _pausedUntil.AddOrUpdate(registry, until, (_, current) => current > until ? current : until);
        _logger.LogWarning("Registry {Registry} paused for scheduled checks until {Until:u}", registry, until);
    }

    private TimeSpan RetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }

        if (retryAfter?.Date is { } date)
        {
            var wait = date - _clock.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return TimeSpan.FromSeconds(1);
    }

    private static TimeSpan Backoff(int failures) => TimeSpan.FromMilliseconds(200 * Math.Pow(2, failures - 1));

    private Task DelayAsync(TimeSpan delay, CancellationToken ct) => Task.Delay(delay, _clock, ct);

    private static bool Transient(Exception e, CancellationToken ct) =>
        e is HttpRequestException || (e is TaskCanceledException or OperationCanceledException && !ct.IsCancellationRequested);

    private RegistryException Unreachable(RegistryTarget target, Exception e)
    {
        if (e is HttpRequestException { InnerException: OutboundRefusedException refused })
        {
            return new RegistryException(RegistryFailure.Forbidden, $"{target.Registry} is not reachable from the dashboard: {refused.Message}");
        }

        _logger.LogWarning("Registry {Registry} unreachable: {Error}", target.Registry, e.Message);
        var reason = e is TaskCanceledException or OperationCanceledException ? $"did not answer within {_options.RequestTimeoutSeconds} s" : e.Message;
        return new RegistryException(RegistryFailure.Unreachable, $"{target.Registry} is unreachable: {reason}", e);
    }

    private HttpClient CreateClient(OutboundGuard guard, bool verifyTls)
    {
        var handler = guard.CreateHandler();
        handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5);
        handler.ConnectTimeout = TimeSpan.FromSeconds(Math.Min(_options.RequestTimeoutSeconds, 15));
        handler.AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate;
        if (!verifyTls)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }

        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
