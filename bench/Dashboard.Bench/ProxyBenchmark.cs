using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Dashboard.Domain.Registry;

namespace Dashboard.Bench;

/// <summary>
/// A 256 MiB layer on Debian's docker-registry, pulled directly, through the dashboard (cold, then warm from its cache)
/// and through docker-registry's own proxy mode (cold, then warm), in one run, as throughput ratios to the direct pull;
/// and the dashboard's peak memory growth while serving it.
/// </summary>
internal static class ProxyBenchmark
{
    private const int LayerBytes = 256 * 1024 * 1024;

    public static async Task RunAsync()
    {
        await using var upstream = await LocalRegistry.StartAsync();
        var layer = RandomNumberGenerator.GetBytes(LayerBytes);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(layer));
        using (var pusher = new HttpClient { BaseAddress = new Uri($"http://{upstream.Host}"), Timeout = TimeSpan.FromMinutes(5) })
        {
            await PushAsync(pusher, layer, digest);
        }

        layer = null!;
        GC.Collect();
        await using var mirror = await LocalRegistry.StartAsync(proxyOf: $"http://{upstream.Host}");
        await using var app = await AppProcess.StartAsync(new Dictionary<string, string> { ["Dashboard__Registries__AllowLoopback"] = "true" });
        (await app.Admin.PostAsJsonAsync("/api/v1/namespaces", new { name = "bench" })).EnsureSuccessStatusCode();
        (await app.Admin.PostAsJsonAsync("/api/v1/namespaces/bench/imagestreams", new { name = "big" })).EnsureSuccessStatusCode();
        (await app.Admin.PutAsJsonAsync("/api/v1/namespaces/bench/imagestreams/big/tags/1", new { from = $"{upstream.Host}/bench/big:1", insecure = true }))
            .EnsureSuccessStatusCode();
        using (var manifest = await app.Admin.GetAsync("/v2/bench/big/manifests/1"))
        {
            manifest.EnsureSuccessStatusCode();
        }

        using var plain = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        var direct = await PullAsync(plain, $"http://{upstream.Host}/v2/bench/big/blobs/{digest}", digest);
        var before = app.Memory();
        var cold = await PullAsync(app.Admin, $"{app.Address}v2/bench/big/blobs/{digest}", digest);
        var afterCold = app.Memory();
        var warm = await PullAsync(app.Admin, $"{app.Address}v2/bench/big/blobs/{digest}", digest);
        var mirrorCold = await PullAsync(plain, $"http://{mirror.Host}/v2/bench/big/blobs/{digest}", digest);
        var mirrorWarm = await PullAsync(plain, $"http://{mirror.Host}/v2/bench/big/blobs/{digest}", digest);
        var peak = app.Memory().Peak;

        Console.WriteLine($"One {LayerBytes / (1024 * 1024)} MiB layer, loopback, each pull read to the end and its SHA-256 checked by the client.");
        Console.WriteLine();
        Console.WriteLine("| pull | seconds | MiB/s | ratio to direct |");
        Console.WriteLine("|---|---:|---:|---:|");
        Row("direct from docker-registry", direct);
        Row("through the dashboard, cold", cold);
        Row("through the dashboard, warm (cache)", warm);
        Row("docker-registry proxy mode, cold", mirrorCold);
        Row("docker-registry proxy mode, warm", mirrorWarm);
        Console.WriteLine();
        Console.WriteLine($"Dashboard resident memory before the cold pull {before.Resident / (1024 * 1024)} MiB; peak during it {afterCold.Peak / (1024 * 1024)} MiB "
            + $"(growth {(afterCold.Peak - before.Resident) / (1024 * 1024)} MiB); peak over the run {peak / (1024 * 1024)} MiB.");

        void Row(string name, double seconds) =>
            Console.WriteLine($"| {name} | {seconds:0.00} | {LayerBytes / (1024.0 * 1024) / seconds:0} | {direct / seconds:0.00} |");
    }

    private static async Task<double> PullAsync(HttpClient client, string url, string digest)
    {
        var watch = Stopwatch.StartNew();
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }

        var seconds = watch.Elapsed.TotalSeconds;
        if ("sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset()) != digest)
        {
            throw new InvalidOperationException($"{url} served other bytes than {digest}.");
        }

        return seconds;
    }

    private static async Task PushAsync(HttpClient client, byte[] layer, string layerDigest)
    {
        var config = JsonSerializer.SerializeToUtf8Bytes(new { architecture = "amd64", os = "linux", rootfs = new { type = "layers", diff_ids = new[] { layerDigest } } });
        var configDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(config));
        await PutBlobAsync(client, layer, layerDigest);
        await PutBlobAsync(client, config, configDigest);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciManifest,
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = configDigest, size = config.Length },
            layers = new[] { new { mediaType = "application/vnd.oci.image.layer.v1.tar", digest = layerDigest, size = layer.Length } },
        });
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        (await client.PutAsync("/v2/bench/big/manifests/1", content)).EnsureSuccessStatusCode();
    }

    private static async Task PutBlobAsync(HttpClient client, byte[] blob, string digest)
    {
        using var start = await client.PostAsync("/v2/bench/big/blobs/uploads/", null);
        start.EnsureSuccessStatusCode();
        var location = start.Headers.Location!;
        var uri = location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString;
        var content = new ByteArrayContent(blob);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        (await client.PutAsync($"{uri}{(uri.Contains('?') ? '&' : '?')}digest={Uri.EscapeDataString(digest)}", content)).EnsureSuccessStatusCode();
    }
}
