using System.Collections.Concurrent;
using System.Security.Cryptography;
using Dashboard.Domain.Images;
using Microsoft.Extensions.Logging;

namespace Dashboard.Domain.Proxy;

/// <summary>The <c>Dashboard:Proxy</c> settings.</summary>
public sealed class ProxyOptions
{
    public const string Section = "Dashboard:Proxy";

    /// <summary>Keep pulled blobs and manifests on disk under the data directory.</summary>
    public bool CacheEnabled { get; set; } = true;

    /// <summary>The cache's size limit in MiB; the least recently used blobs go first.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100_000_000)]
    public long CacheMaxMegabytes { get; set; } = 10_240;

    /// <summary>
    /// When an upstream answers a blob with a redirect to another host (S3, Swift, a CDN's signed URL): <c>Redirect</c>
    /// hands the same redirect to the client (content offload, nothing streams through the dashboard), <c>Stream</c>
    /// follows it and streams (and caches) the blob.
    /// </summary>
    public OffloadMode Offload { get; set; } = OffloadMode.Redirect;

    /// <summary>
    /// The host[:port] clusters pull from the dashboard by (<c>dashboard.example.com</c>): tags with the <c>Local</c>
    /// reference policy show <c>&lt;this&gt;/&lt;namespace&gt;/&lt;stream&gt;@&lt;digest&gt;</c> and <c>/admission/mutate</c>
    /// rewrites to it. Empty: the console shows the address it is browsed at and mutate pins to the upstream.
    /// </summary>
    public string? PublicHost { get; set; }

    /// <summary>A port of its own for the registry endpoint (HTTPS with <see cref="CertificateFile"/> and <see cref="KeyFile"/>, else HTTP); 0: the app's own addresses.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 65535)]
    public int Port { get; set; }

    public string? CertificateFile { get; set; }

    public string? KeyFile { get; set; }
}

public enum OffloadMode
{
    Redirect,
    Stream,
}

public sealed record CacheStatistics(long Hits, long Misses, long BytesServed, long UpstreamErrors, int Downloading, long SizeBytes, int Blobs);

/// <summary>
/// A content-addressed cache of blobs and manifests: a blob is written while it streams to its first client and kept
/// only when its digest verifies; clients that ask for the same uncached blob meanwhile wait for that one download and
/// are served from the file. Least recently used blobs are evicted above the size limit.
/// </summary>
public sealed class BlobCache
{
    private const int ChunkSize = 256 * 1024;

    private readonly string _root;
    private readonly long _maxBytes;
    private readonly ILogger<BlobCache> _logger;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<string, Task<bool>> _downloads = new(StringComparer.Ordinal);
    private long _hits, _misses, _bytesServed, _upstreamErrors;

    public BlobCache(string root, ProxyOptions options, ILogger<BlobCache> logger, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        _root = root;
        Offload = options.Offload;
        Enabled = options.CacheEnabled;
        _maxBytes = options.CacheMaxMegabytes * 1024 * 1024;
        _logger = logger;
        Directory.CreateDirectory(Path.Combine(_root, "blobs"));
        Directory.CreateDirectory(Path.Combine(_root, "manifests"));
        Directory.CreateDirectory(Path.Combine(_root, "tmp"));
    }

    public bool Enabled { get; }

    /// <summary>The directory the cache writes to (readiness checks that it can).</summary>
    public string Root => _root;

    public OffloadMode Offload { get; }

    public CacheStatistics Statistics
    {
        get
        {
            var files = new DirectoryInfo(Path.Combine(_root, "blobs")).GetFiles();
            return new CacheStatistics(Interlocked.Read(ref _hits), Interlocked.Read(ref _misses), Interlocked.Read(ref _bytesServed),
                Interlocked.Read(ref _upstreamErrors), _downloads.Count, files.Sum(f => f.Length), files.Length);
        }
    }

    public void CountServed(long bytes) => Interlocked.Add(ref _bytesServed, bytes);

    public void CountUpstreamError() => Interlocked.Increment(ref _upstreamErrors);

    /// <summary>The cached blob's file (its use is noted for eviction), or null.</summary>
    public string? Blob(Digest digest)
    {
        var path = BlobPath(digest);
        if (!Enabled || !File.Exists(path))
        {
            return null;
        }

        Interlocked.Increment(ref _hits);
        try
        {
            File.SetLastWriteTimeUtc(path, _clock.GetUtcNow().UtcDateTime);
        }
        catch (IOException)
        {
            // Evicted meanwhile: the caller's open fails and it goes upstream.
        }

        return path;
    }

    /// <summary>
    /// Joins the download of an uncached blob: the first caller gets <c>Leader</c> and must call <see cref="WriteAsync"/>;
    /// the others get the task that says whether the blob was cached.
    /// </summary>
    public (bool Leader, Task<bool> Done, TaskCompletionSource<bool>? Complete) Join(Digest digest)
    {
        Interlocked.Increment(ref _misses);
        var complete = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var existing = _downloads.GetOrAdd(digest.ToString(), complete.Task);
        return ReferenceEquals(existing, complete.Task) ? (true, complete.Task, complete) : (false, existing, null);
    }

    /// <summary>
    /// Copies <paramref name="upstream"/> to <paramref name="client"/> and to a temporary file, keeps the file when its
    /// digest verifies, and tells the waiting clients. A blob that runs past <paramref name="statedSize"/> (what its
    /// manifest or the upstream said) is cut there with an <see cref="IOException"/>: no upstream fills the disk.
    /// </summary>
    public async Task WriteAsync(Digest digest, Stream upstream, Stream client, TaskCompletionSource<bool> complete, CancellationToken ct,
        long? statedSize = null)
    {
        var temp = Path.Combine(_root, "tmp", $"{digest.Hex}.{Guid.NewGuid():N}");
        var kept = false;
        try
        {
            using var hash = digest.CreateHash();
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                // Two buffers: the next upstream read runs while this chunk is hashed and written to the file and the
                // client at once, so the three costs overlap instead of adding up.
                byte[][] buffers = [new byte[ChunkSize], new byte[ChunkSize]];
                var current = 0;
                long total = 0;
                var read = await upstream.ReadAsync(buffers[current], ct);
                while (read > 0)
                {
                    total += read;
                    if (total > statedSize)
                    {
                        throw new IOException($"Blob {digest} runs past the {statedSize} bytes stated for it: cut, not cached.");
                    }

                    var chunk = buffers[current].AsMemory(0, read);
                    var next = upstream.ReadAsync(buffers[current ^ 1], ct).AsTask();
                    try
                    {
                        hash.AppendData(chunk.Span);
                        await Task.WhenAll(file.WriteAsync(chunk, ct).AsTask(), client.WriteAsync(chunk, ct).AsTask());
                    }
                    catch
                    {
                        await next.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
                        throw;
                    }

                    CountServed(read);
                    read = await next;
                    current ^= 1;
                }
            }

            if (!digest.Matches(hash))
            {
                _logger.LogWarning("Upstream blob {Digest} arrived with other content: not cached", digest);
            }
            else
            {
                File.Move(temp, BlobPath(digest), overwrite: true);
                kept = true;
                Evict();
            }
        }
        finally
        {
            if (!kept)
            {
                File.Delete(temp);
            }

            _downloads.TryRemove(digest.ToString(), out _);
            complete.TrySetResult(kept);
        }
    }

    /// <summary>Gives up a download this caller leads (the upstream did not serve it): the waiting clients go upstream themselves.</summary>
    public void Abandon(Digest digest, TaskCompletionSource<bool> complete)
    {
        _downloads.TryRemove(digest.ToString(), out _);
        complete.TrySetResult(false);
    }

    /// <summary>A cached manifest by digest (manifests are immutable by digest), or null.</summary>
    public ProxyManifest? Manifest(Digest digest)
    {
        var path = Path.Combine(_root, "manifests", digest.Hex);
        return Enabled && File.Exists(path) && File.Exists(path + ".type")
            ? new ProxyManifest(File.ReadAllBytes(path), File.ReadAllText(path + ".type"), digest)
            : null;
    }

    public void Keep(ProxyManifest manifest)
    {
        if (!Enabled)
        {
            return;
        }

        var path = Path.Combine(_root, "manifests", manifest.Digest.Hex);
        File.WriteAllText(path + ".type", manifest.MediaType);
        File.WriteAllBytes(path, manifest.Content);
    }

    public void Clear()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(_root, "blobs")).Concat(Directory.GetFiles(Path.Combine(_root, "manifests"))))
        {
            File.Delete(file);
        }
    }

    private string BlobPath(Digest digest) => Path.Combine(_root, "blobs", digest.Hex);

    /// <summary>Least recently used blobs go until the cache fits its limit, downloads in progress (temporary files) counted too.</summary>
    private void Evict()
    {
        var files = new DirectoryInfo(Path.Combine(_root, "blobs")).GetFiles().OrderBy(f => f.LastWriteTimeUtc).ToList();
        var size = files.Sum(f => f.Length) + new DirectoryInfo(Path.Combine(_root, "tmp")).GetFiles().Sum(f => f.Length);
        foreach (var file in files)
        {
            if (size <= _maxBytes)
            {
                break;
            }

            size -= file.Length;
            file.Delete();
            _logger.LogInformation("Evicted blob {Name} from the pull-through cache", file.Name);
        }
    }
}
