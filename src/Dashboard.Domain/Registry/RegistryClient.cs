using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dashboard.Domain.Images;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Registry;

/// <summary>A manifest as the registry served it, its digest verified.</summary>
public sealed record ManifestResponse(Digest Digest, string MediaType, byte[] Content);

/// <summary>A repository's tag names as listed, and whether the listing was cut at its bound.</summary>
public sealed record TagListing(IReadOnlyList<string> Tags, bool Cut);

/// <summary>
/// The read side of the OCI distribution API (https://github.com/opencontainers/distribution-spec/blob/main/spec.md):
/// ping, tag listing with <c>Link</c> paging, manifests (GET and HEAD, digests verified), blobs, bodies read within their
/// size bounds. Everything else a request meets on its way — where it goes, pauses, credentials, retries, per-host bounds,
/// redirects, the outbound guard — is a handler of the <see cref="IHttpClientFactory"/> client it sends with
/// (<see cref="RegistryClientRegistration"/>, docs/decisions/0014-registry-client-composition.md).
/// </summary>
public sealed class RegistryClient : IDisposable
{
    public const int MaxManifestBytes = 4 * 1024 * 1024;
    public const int MaxConfigBytes = 8 * 1024 * 1024;
    private const int MaxTagPages = 200;

    private readonly HttpClient _http;
    private readonly RegistryTraffic _traffic;
    private readonly RegistryOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<RegistryClient> _logger;
    private IDisposable? _owner;

    public RegistryClient(IHttpClientFactory clients, RegistryTraffic traffic, IOptions<RegistryOptions> options, TimeProvider clock, ILogger<RegistryClient> logger)
    {
        _http = clients.CreateClient(RegistryClientRegistration.Name);
        _traffic = traffic;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>
    /// A client outside a host (tests, benchmarks): the same composition in a container of its own, released with the
    /// client. <paramref name="pauses"/> lets the caller see what the rate-limit observer reported.
    /// </summary>
    public static RegistryClient Create(RegistryOptions options, Scheduling.RegistryPauses? pauses = null)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton(Options.Create(options));
        if (pauses is not null)
        {
            services.AddSingleton(pauses);
        }

        var provider = services.AddRegistryClient().BuildServiceProvider();
        var client = provider.GetRequiredService<RegistryClient>();
        client._owner = provider;
        return client;
    }

    /// <summary>How many HTTP requests went out (for metrics, benchmarks and tests that count registry traffic).</summary>
    public long RequestCount => _traffic.Requests;

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
            var body = await ReadCappedAsync(response, MaxManifestBytes, "tag list", _options.RequestTimeoutSeconds, ct);
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
        var what = $"{repository}:{reference}";
        using var response = await SendAsync(target, HttpMethod.Get, $"/v2/{repository}/manifests/{reference}", PullScope(repository), MediaTypes.AcceptedManifests, ct,
            mirror: ManifestLookup(repository, reference, what));
        await EnsureSuccessAsync(target, response, what, ct);
        var content = await ReadCappedAsync(response, MaxManifestBytes, "manifest", _options.RequestTimeoutSeconds, ct);
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
        var what = $"{repository}:{reference}";
        using var response = await SendAsync(target, HttpMethod.Head, $"/v2/{repository}/manifests/{reference}", PullScope(repository), MediaTypes.AcceptedManifests, ct,
            mirror: ManifestLookup(repository, reference, what));
        await EnsureSuccessAsync(target, response, what, ct);
        return HeaderDigest(response);
    }

    /// <summary>
    /// The OCI 1.1 referrers of a manifest (<c>GET /v2/&lt;name&gt;/referrers/&lt;digest&gt;</c>): an image index listing the
    /// artifacts (signatures, SBOMs) whose <c>subject</c> is it, filtered by artifact type when asked (a registry may ignore
    /// the filter). Null when the registry has no referrers API: it answers 404, which the spec forbids a registry that
    /// offers it; Debian's docker-registry 2.8 does.
    /// </summary>
    public async Task<byte[]?> GetReferrersAsync(RegistryTarget target, string repository, Digest subject, string? artifactType, CancellationToken ct)
    {
        var filter = artifactType is null ? "" : $"?artifactType={Uri.EscapeDataString(artifactType)}";
        var what = $"the referrers of {repository}@{subject.Short}";
        using var response = await SendAsync(target, HttpMethod.Get, $"/v2/{repository}/referrers/{subject}{filter}", PullScope(repository),
            [MediaTypes.OciIndex], ct, mirror: new MirrorLookup(repository, ByDigest: true, what));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(target, response, what, ct);
        return await ReadCappedAsync(response, MaxManifestBytes, "referrers index", _options.RequestTimeoutSeconds, ct);
    }

    /// <summary>A blob (an image config), at most <paramref name="maxBytes"/>, verified against its digest.</summary>
    public async Task<byte[]> GetBlobAsync(RegistryTarget target, string repository, Digest digest, int maxBytes, CancellationToken ct)
    {
        var what = $"blob {digest.Short} of {repository}";
        using var response = await SendAsync(target, HttpMethod.Get, $"/v2/{repository}/blobs/{digest}", PullScope(repository), null, ct,
            mirror: new MirrorLookup(repository, ByDigest: true, what));
        await EnsureSuccessAsync(target, response, what, ct);
        var content = await ReadCappedAsync(response, maxBytes, "image config", _options.RequestTimeoutSeconds, ct);
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
            range, keepOffload, new MirrorLookup(repository, ByDigest: true, $"blob {digest.Short} of {repository}"));
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
        var what = $"blob {digest.Short} of {repository}";
        using var response = await SendAsync(target, HttpMethod.Head, $"/v2/{repository}/blobs/{digest}", PullScope(repository), null, ct,
            mirror: new MirrorLookup(repository, ByDigest: true, what));
        await EnsureSuccessAsync(target, response, what, ct);
        return response.Content.Headers.ContentLength;
    }

    public void Dispose() => _owner?.Dispose();

    private static string PullScope(string repository) => $"repository:{repository}:pull";

    private static MirrorLookup ManifestLookup(string repository, string reference, string what) =>
        new(repository, ByDigest: Digest.TryParse(reference, out _, out _), what);

    private async Task<HttpResponseMessage> SendAsync(RegistryTarget target, HttpMethod method, string pathAndQuery, string scope,
        string[]? accept, CancellationToken ct, string? range = null, bool keepOffload = false, MirrorLookup? mirror = null)
    {
        // The route handler chooses scheme and host (a mirror's, for a call of an image); this names the target's own.
        var request = new HttpRequestMessage(method, $"https://{target.ApiHost}{pathAndQuery}").ForCall(target, new RegistryCall(scope, keepOffload, mirror));
        foreach (var type in accept ?? [])
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        if (range is not null)
        {
            request.Headers.TryAddWithoutValidation("Range", range);
        }

        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (Exception e) when (RegistryException.IsTransient(e, ct))
        {
            throw RegistryException.Unreachable(target.Registry, e, _options.RequestTimeoutSeconds, _logger);
        }
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
        if (response.RequestMessage?.Tried() is { } tried)
        {
            // A mirrored call: no single registry to name, every place tried and what each said.
            throw new RegistryException(Reason(response.StatusCode), RegistryRouteHandler.NoPlaceServed(what, tried));
        }

        var who = target.Credential is null ? "without credentials" : $"as '{target.Credential.Username}'";
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => new RegistryException(RegistryFailure.Unauthorized,
                $"{target.Registry} refused access to {what} {who}{detail}. Check the namespace's pull secrets."),
            HttpStatusCode.Forbidden => new RegistryException(RegistryFailure.Forbidden, $"{target.Registry} forbids access to {what} {who}{detail}."),
            HttpStatusCode.NotFound => new RegistryException(RegistryFailure.NotFound, $"{what} was not found on {target.Registry}{detail}."),
            HttpStatusCode.TooManyRequests => new RegistryException(RegistryFailure.RateLimited,
                $"{target.Registry} is rate-limiting the dashboard (429); it asks to wait {RateLimitObserver.RetryAfter(response, _clock).TotalSeconds:0} s."),
            _ => new RegistryException(RegistryFailure.Unreachable, $"{target.Registry} answered {(int)response.StatusCode} for {what}{detail}."),
        };
    }

    private static RegistryFailure Reason(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized => RegistryFailure.Unauthorized,
        HttpStatusCode.Forbidden => RegistryFailure.Forbidden,
        HttpStatusCode.NotFound => RegistryFailure.NotFound,
        HttpStatusCode.TooManyRequests => RegistryFailure.RateLimited,
        _ => RegistryFailure.Unreachable,
    };

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
    internal static async Task<byte[]> ReadCappedAsync(HttpResponseMessage response, int maxBytes, string what, int timeoutSeconds, CancellationToken ct)
    {
        var tooLarge = $"The {what} is larger than {Math.Max(1, maxBytes / (1024 * 1024))} MiB; the dashboard does not read it.";
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            throw new RegistryException(RegistryFailure.InvalidManifest, tooLarge);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
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
                $"The {what} from {response.RequestMessage?.RequestUri?.Authority} did not arrive whole within {timeoutSeconds} s: {e.Message}");
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
}
