using System.Security.Claims;
using System.Text.Json;
using Dashboard.Domain;
using Dashboard.Domain.Images;
using Dashboard.Domain.Proxy;
using Dashboard.Domain.Registry;
using Dashboard.Hosting;
using Dashboard.Security;

namespace Dashboard.Distribution;

/// <summary>
/// The pull side of the OCI distribution API under <c>/v2/</c>: <c>docker pull &lt;dashboard&gt;/&lt;namespace&gt;/&lt;stream&gt;:&lt;tag&gt;</c>.
/// Authorization: the endpoints take no cookie session; every one but the challenge needs registry credentials — a
/// token from <c>/v2/token</c> (the Docker token flow, Basic with a password or personal access token) or those API
/// credentials directly — and the namespace's read access, checked by the domain. Errors use the spec's JSON body.
/// </summary>
internal static class RegistryEndpoint
{
    public const string Service = "dashboard";

    public static void AddRegistryEndpoint(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RegistryTokens>();
        builder.Services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var settings = builder.Configuration.GetSection(ProxyOptions.Section).Get<ProxyOptions>() ?? new ProxyOptions();
        if (settings.Port > 0)
        {
            builder.ListenAlsoOn(settings.Port, ExtraPorts.Certificate(settings.CertificateFile, settings.KeyFile));
        }

        var cacheDirectory = Path.Combine(builder.DashboardSettings().ResolveDataDirectory(builder.Environment), "cache");
        builder.Services.AddSingleton(provider => new BlobCache(cacheDirectory,
            provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<ProxyOptions>>().Value, provider.GetRequiredService<ILogger<BlobCache>>(),
            provider.GetRequiredService<TimeProvider>()));
    }

    public static void MapRegistryEndpoint(this WebApplication app)
    {
        var v2 = app.MapGroup("/v2").AllowAnonymous().ExcludeFromDescription();
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ProxyOptions>>().Value.Port is > 0 and var port)
        {
            // With a port of its own, the registry answers only there.
            v2.OnlyOnPort(port);
        }

        // Some clients (containerd) probe with HEAD.
        v2.MapMethods("/", ["GET", "HEAD"], Ping);
        v2.MapGet("/token", Token);
        v2.MapGet("/_catalog", Catalog);
        v2.MapMethods("/{ns}/{stream}/manifests/{reference}", ["GET", "HEAD"], Manifest);
        v2.MapMethods("/{ns}/{stream}/blobs/{digest}", ["GET", "HEAD"], Blob);
        v2.MapGet("/{ns}/{stream}/tags/list", Tags);
        v2.MapGet("/{ns}/{stream}/referrers/{digest}", Referrers);
        v2.MapMethods("/{**rest}", ["POST", "PUT", "PATCH", "DELETE"], (HttpContext context) =>
            context.User.Identity?.IsAuthenticated != true
                ? Challenge(context, null)
                : Error(StatusCodes.Status405MethodNotAllowed, "UNSUPPORTED", "The dashboard's registry serves pulls only; push to the upstream registry."));
    }

    private static IResult Ping(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true ? Json(new { }) : Challenge(context, null);

    /// <summary>The Docker token endpoint: Basic (or a personal access token) in, a short-lived pull token for the readable repositories asked for out.</summary>
    private static async Task<IResult> Token(HttpContext context, RegistryTokens tokens, PullThrough pull, CancellationToken ct)
    {
        // A client without credentials (docker pull before any login) asks anonymously: it gets a token for the
        // namespaces that allow anonymous pulls, and the Basic challenge for anything else. Wrong credentials are refused.
        var anonymous = context.User.Identity?.IsAuthenticated != true && tokens.IsAnonymous(context.Request);
        if (!anonymous && (context.User.Identity?.IsAuthenticated != true || context.User.FindFirst(RegistryTokens.ScopeClaim) is not null))
        {
            return BasicChallenge(context);
        }

        var caller = anonymous ? Dashboard.Domain.Access.Caller.Anonymous : context.User.ToCaller();
        var readable = (await pull.ReadableNamespacesAsync(caller, ct)).ToHashSet(StringComparer.Ordinal);
        var granted = new List<string>();
        foreach (var scope in context.Request.Query["scope"].SelectMany(s => (s ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            // repository:<namespace>/<stream>:pull[,push]: pull is granted where the caller reads the namespace; push never.
            var parts = scope.Split(':');
            if (parts is ["repository", var name, var actions] && actions.Split(',').Contains("pull")
                && name.Split('/') is [var ns, _] && readable.Contains(ns))
            {
                granted.Add(name);
            }
        }

        if (anonymous && granted.Count == 0)
        {
            return BasicChallenge(context);
        }

        var token = tokens.Issue(caller.UserId, granted);
        return Json(new { token, access_token = token, expires_in = (int)RegistryTokens.Lifetime.TotalSeconds, issued_at = DateTime.UtcNow.ToString("O") });
    }

    private static async Task<IResult> Catalog(HttpContext context, PullThrough pull, int? n, string? last, CancellationToken ct)
    {
        if (context.User.Identity?.IsAuthenticated != true)
        {
            return Challenge(context, "registry:catalog:*");
        }

        var names = await pull.CatalogAsync(context.User.ToCaller(), ct);
        return Paged(context, names, n, last, "repositories", "/v2/_catalog");
    }

    private static Task<IResult> Tags(HttpContext context, PullThrough pull, string ns, string stream, int? n, string? last, CancellationToken ct) =>
        GuardAsync(context, ns, stream, async caller =>
            Paged(context, await pull.TagsAsync(caller, ns, stream, ct), n, last, "tags", $"/v2/{ns}/{stream}/tags/list", ("name", $"{ns}/{stream}")));

    private static Task<IResult> Manifest(HttpContext context, PullThrough pull, string ns, string stream, string reference, CancellationToken ct) =>
        GuardAsync(context, ns, stream, async caller =>
        {
            var manifest = await pull.ManifestAsync(caller, ns, stream, reference, ct);
            context.Response.Headers["Docker-Content-Digest"] = manifest.Digest.ToString();
            if (HttpMethods.IsHead(context.Request.Method))
            {
                context.Response.ContentType = manifest.MediaType;
                context.Response.ContentLength = manifest.Content.Length;
                return Results.Empty;
            }

            return Results.Bytes(manifest.Content, manifest.MediaType);
        }, "MANIFEST_UNKNOWN");

    /// <summary>
    /// The OCI 1.1 referrers of a recorded image (its cosign signatures, and what else its upstream lists), filtered by
    /// <c>artifactType</c>; an empty index for any other digest.
    /// </summary>
    private static Task<IResult> Referrers(HttpContext context, PullThrough pull, string ns, string stream, string digest, string? artifactType,
        CancellationToken ct) =>
        GuardAsync(context, ns, stream, async caller =>
        {
            if (!Digest.TryParse(digest, out var subject, out var error))
            {
                return Error(StatusCodes.Status400BadRequest, "DIGEST_INVALID", error);
            }

            var index = await pull.ReferrersAsync(caller, ns, stream, subject, artifactType, ct);
            if (artifactType is not null)
            {
                context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
            }

            return Results.Bytes(index, MediaTypes.OciIndex);
        }, "MANIFEST_UNKNOWN");

    /// <summary>
    /// A blob: from the cache when this stream's manifests name it, else from the stream's upstreams. A whole-blob miss is
    /// downloaded once however many clients ask at the same time, written to the cache as it streams to the first client,
    /// and kept when its digest verifies; the others are served from the file.
    /// </summary>
    private static Task<IResult> Blob(HttpContext context, PullThrough pull, string ns, string stream, string digest, ILogger<PullThrough> logger,
        CancellationToken ct) =>
        GuardAsync(context, ns, stream, async caller =>
        {
            if (!Digest.TryParse(digest, out var parsed, out var error))
            {
                return Error(StatusCodes.Status400BadRequest, "DIGEST_INVALID", error);
            }

            var head = HttpMethods.IsHead(context.Request.Method);
            var range = context.Request.Headers.Range.ToString() is { Length: > 0 } r ? r : null;
            var cache = pull.Cache;
            var offload = cache?.Offload == OffloadMode.Redirect;
            if (cache is not null && cache.Blob(parsed!) is { } cached && await pull.OwnsBlobAsync(caller, ns, stream, parsed!, ct))
            {
                return CachedFile(cache, cached, parsed!);
            }

            if (cache is { Enabled: true } && !head && range is null)
            {
                var (leader, done, complete) = cache.Join(parsed!);
                if (!leader)
                {
                    // Someone else's download, perhaps through another namespace's stream: served only when this stream's
                    // own manifests name the blob, as for any cached blob (docs/security.md).
                    if (await done.WaitAsync(ct) && cache.Blob(parsed!) is { } downloaded && await pull.OwnsBlobAsync(caller, ns, stream, parsed!, ct))
                    {
                        return CachedFile(cache, downloaded, parsed!);
                    }
                }
                else
                {
                    UpstreamBlob? first = null;
                    try
                    {
                        first = await pull.OpenBlobAsync(caller, ns, stream, parsed!, head, range, ct, offload);
                    }
                    finally
                    {
                        if (first?.Response is not { StatusCode: System.Net.HttpStatusCode.OK })
                        {
                            cache.Abandon(parsed!, complete!);
                        }
                    }

                    return first switch
                    {
                        null => Error(StatusCodes.Status404NotFound, "BLOB_UNKNOWN", $"No upstream repository of {ns}/{stream} has blob {digest}."),
                        // What the stream's manifest says the blob weighs, else what the upstream says: nothing longer is written.
                        { Response.StatusCode: System.Net.HttpStatusCode.OK } => new CachingBlob(first.Response, parsed!, cache, complete!, logger,
                            first.StatedSize ?? first.Response.Content.Headers.ContentLength),
                        _ => Relay(first.Response, parsed!, head, cache),
                    };
                }
            }

            var upstream = await pull.OpenBlobAsync(caller, ns, stream, parsed!, head, range, ct, offload);
            return upstream is null
                ? Error(StatusCodes.Status404NotFound, "BLOB_UNKNOWN", $"No upstream repository of {ns}/{stream} has blob {digest}.")
                : Relay(upstream.Response, parsed!, head, cache);
        }, "BLOB_UNKNOWN");

    /// <summary>An upstream answer for the client: its redirect to blob storage as the same redirect (content offload), else the bytes.</summary>
    private static IResult Relay(HttpResponseMessage upstream, Digest digest, bool head, BlobCache? cache)
    {
        if ((int)upstream.StatusCode is >= 300 and < 400 && upstream.Headers.Location is { } location)
        {
            upstream.Dispose();
            return Results.Redirect(location.ToString(), permanent: false, preserveMethod: true);
        }

        return new StreamedBlob(upstream, digest, head, cache);
    }

    private static IResult CachedFile(BlobCache cache, string path, Digest digest) => new CachedBlob(cache, path, digest);

    /// <summary>Requires registry credentials that may pull this repository, and turns domain refusals into the spec's errors.</summary>
    private static async Task<IResult> GuardAsync(HttpContext context, string ns, string stream, Func<Dashboard.Domain.Access.Caller, Task<IResult>> serve,
        string unknown = "NAME_UNKNOWN")
    {
        var repository = $"{ns}/{stream}";
        Dashboard.Domain.Access.Caller caller;
        if (context.User.Identity?.IsAuthenticated == true && RegistryTokens.Allows(context.User, repository))
        {
            caller = context.User.ToCaller();
        }
        else if (context.User.Identity?.IsAuthenticated != true && context.RequestServices.GetRequiredService<RegistryTokens>().IsAnonymous(context.Request)
            && await context.RequestServices.GetRequiredService<PullThrough>().AllowsAnonymousAsync(ns, context.RequestAborted))
        {
            caller = Dashboard.Domain.Access.Caller.Anonymous;
        }
        else
        {
            return Challenge(context, $"repository:{repository}:pull");
        }

        try
        {
            return await serve(caller);
        }
        catch (NotFoundException e)
        {
            return Error(StatusCodes.Status404NotFound, e.Message.Contains("does not exist") ? "NAME_UNKNOWN" : unknown, e.Message);
        }
        catch (ForbiddenException e)
        {
            return Error(StatusCodes.Status403Forbidden, "DENIED", e.Message);
        }
        catch (RegistryException e)
        {
            // The upstream's failure, said as it is: the client sees why its pull failed, never a stack trace.
            return Error(StatusCodes.Status502BadGateway, "UNKNOWN", $"The upstream registry did not serve it ({e.Reason}): {e.Message}");
        }
    }

    private static IResult BasicChallenge(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"dashboard\"";
        return Error(StatusCodes.Status401Unauthorized, "UNAUTHORIZED", "Log in with your dashboard user name and a password or personal access token.");
    }

    private static IResult Challenge(HttpContext context, string? scope)
    {
        var realm = $"{context.Request.Scheme}://{context.Request.Host}/v2/token";
        context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{realm}\",service=\"{Service}\"" + (scope is null ? "" : $",scope=\"{scope}\"");
        return Error(StatusCodes.Status401Unauthorized, "UNAUTHORIZED", "Authentication required: log in to the dashboard's registry.");
    }

    private static IResult Paged(HttpContext context, IReadOnlyList<string> all, int? n, string? last, string field, string path,
        (string Name, string Value)? extra = null)
    {
        var after = last is null ? all : all.Where(x => string.CompareOrdinal(x, last) > 0).ToList();
        var size = n is > 0 ? Math.Min(n.Value, 1000) : 1000;
        var page = after.Take(size).ToList();
        if (after.Count > size)
        {
            context.Response.Headers.Link = $"<{path}?n={size}&last={Uri.EscapeDataString(page[^1])}>; rel=\"next\"";
        }

        var body = new Dictionary<string, object?>();
        if (extra is { } named)
        {
            body[named.Name] = named.Value;
        }

        body[field] = page;
        return Json(body);
    }

    private static IResult Json(object body) => Results.Json(body, statusCode: 200);

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new { errors = new[] { new { code, message } } }, statusCode: status);

    /// <summary>Serves a cached blob from its file, with range requests.</summary>
    private sealed class CachedBlob(BlobCache cache, string path, Digest digest) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.Headers["Docker-Content-Digest"] = digest.ToString();
            cache.CountServed(new FileInfo(path).Length);
            return Results.File(path, "application/octet-stream", enableRangeProcessing: true).ExecuteAsync(context);
        }
    }

    /// <summary>The first client of an uncached blob: streamed to it and written to the cache at once.</summary>
    private sealed class CachingBlob(HttpResponseMessage upstream, Digest digest, BlobCache cache, TaskCompletionSource<bool> complete, ILogger logger,
        long? statedSize) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            using (upstream)
            {
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.ContentType = "application/octet-stream";
                context.Response.ContentLength = statedSize ?? upstream.Content.Headers.ContentLength;
                context.Response.Headers["Docker-Content-Digest"] = digest.ToString();
                try
                {
                    await using var body = await upstream.Content.ReadAsStreamAsync(context.RequestAborted);
                    await cache.WriteAsync(digest, body, context.Response.Body, complete, context.RequestAborted, statedSize);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or HttpRequestException)
                {
                    logger.LogInformation("Blob {Digest} was not completed: {Reason}", digest, e.Message);
                    complete.TrySetResult(false);
                }
            }
        }
    }

    /// <summary>Streams an upstream blob answer to the client: status (200 or 206), length, range and digest, then the bytes.</summary>
    private sealed class StreamedBlob(HttpResponseMessage upstream, Digest digest, bool head, BlobCache? cache = null) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            using (upstream)
            {
                context.Response.StatusCode = (int)upstream.StatusCode;
                context.Response.ContentType = upstream.Content.Headers.ContentType?.ToString() ?? "application/octet-stream";
                context.Response.ContentLength = upstream.Content.Headers.ContentLength;
                if (upstream.Content.Headers.ContentRange is { } range)
                {
                    context.Response.Headers.ContentRange = range.ToString();
                }

                context.Response.Headers.AcceptRanges = "bytes";
                context.Response.Headers["Docker-Content-Digest"] = digest.ToString();
                if (!head)
                {
                    await using var body = await upstream.Content.ReadAsStreamAsync(context.RequestAborted);
                    await body.CopyToAsync(context.Response.Body, 81920, context.RequestAborted);
                    cache?.CountServed(upstream.Content.Headers.ContentLength ?? 0);
                }
            }
        }
    }
}
