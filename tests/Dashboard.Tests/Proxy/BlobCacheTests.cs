using System.Security.Cryptography;
using Dashboard.Domain.Images;
using Dashboard.Domain.Proxy;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dashboard.Tests.Proxy;

/// <summary>The pull-through cache on real files in a temporary directory: what it keeps and what it refuses.</summary>
public sealed class BlobCacheTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("dashboard-cache-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private BlobCache Cache(long megabytes = 100) =>
        new(_root, new ProxyOptions { CacheMaxMegabytes = megabytes }, NullLogger<BlobCache>.Instance);

    private static async Task<bool> DownloadAsync(BlobCache cache, Digest digest, byte[] content, long? statedSize = null)
    {
        var (leader, _, complete) = cache.Join(digest);
        Assert.True(leader);
        try
        {
            await cache.WriteAsync(digest, new MemoryStream(content), Stream.Null, complete!, CancellationToken.None, statedSize);
        }
        catch (IOException)
        {
            // The download was cut: what the client of a real pull sees as a broken connection.
        }

        return await complete!.Task;
    }

    /// <summary>Issue 12, finding 4: a blob named by a sha512 digest is kept only when its content has that sha512.</summary>
    [Fact]
    public async Task Finding_4_a_sha512_blob_is_kept_only_when_its_content_has_that_digest()
    {
        var cache = Cache();
        byte[] content = [1, 2, 3, 4];
        var wrong = Digest.Parse("sha512:" + Convert.ToHexStringLower(SHA512.HashData([9, 9, 9])));
        var right = Digest.Parse("sha512:" + Convert.ToHexStringLower(SHA512.HashData(content)));

        Assert.False(await DownloadAsync(cache, wrong, content));
        Assert.Null(cache.Blob(wrong));
        Assert.True(await DownloadAsync(cache, right, content));
        Assert.Equal(content, await File.ReadAllBytesAsync(cache.Blob(right)!));
    }

    /// <summary>Issue 12, finding 5: a blob running past the size stated for it is cut there, and nothing of it stays.</summary>
    [Fact]
    public async Task Finding_5_a_blob_longer_than_stated_is_cut_and_leaves_no_file()
    {
        var cache = Cache();
        var content = new byte[600_000];
        Random.Shared.NextBytes(content);
        var digest = Digest.Sha256(content);

        Assert.False(await DownloadAsync(cache, digest, content, statedSize: 300_000));
        Assert.Null(cache.Blob(digest));
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "tmp")));
        Assert.True(await DownloadAsync(cache, digest, content, statedSize: content.Length));
    }

    /// <summary>Downloads in progress count towards the cache's size: finished blobs make room for them.</summary>
    [Fact]
    public async Task Temporary_files_of_downloads_in_progress_count_towards_the_limit()
    {
        var cache = Cache(megabytes: 1);
        var kept = new byte[400_000];
        Random.Shared.NextBytes(kept);
        Assert.True(await DownloadAsync(cache, Digest.Sha256(kept), kept));
        await File.WriteAllBytesAsync(Path.Combine(_root, "tmp", "in-progress"), new byte[700_000]);

        var next = new byte[100_000];
        Random.Shared.NextBytes(next);
        Assert.True(await DownloadAsync(cache, Digest.Sha256(next), next));

        // 400 KB + 100 KB + 700 KB in progress is over 1 MiB: the least recently used blob went.
        Assert.Null(cache.Blob(Digest.Sha256(kept)));
        Assert.NotNull(cache.Blob(Digest.Sha256(next)));
    }
}
