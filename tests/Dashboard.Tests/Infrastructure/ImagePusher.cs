using System.IO.Compression;
using System.Net.Http.Headers;
using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Dashboard.Tests.Infrastructure;

/// <summary>What a test pushed: the manifest's digest and bytes.</summary>
public sealed record PushedManifest(string Digest, string MediaType, int Size, long LayerSize);

/// <summary>
/// Builds small real images (a tar+gzip layer holding one file, a config with labels and the layer's diff_id, an OCI
/// manifest or index) and pushes them with the registry's own upload API, as RECIPES.md describes — no Docker, no
/// network. The layers are real so that clients which extract them (<c>docker pull</c>, ctr, podman) accept the images.
/// </summary>
public static class ImagePusher
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";

    public static async Task<PushedManifest> PushImageAsync(RegistryServer registry, string repository, string tag,
        IReadOnlyDictionary<string, string>? labels = null, string architecture = "amd64", string os = "linux", string? seed = null)
    {
        using var client = registry.Pusher(repository);
        var tar = Tar("seed.txt", Encoding.UTF8.GetBytes($"layer of {repository}:{tag} {seed} {architecture}\n"));
        var layer = Gzip(tar);
        var config = JsonSerializer.SerializeToUtf8Bytes(new
        {
            architecture,
            os,
            created = "2026-11-01T12:00:00Z",
            config = new { Labels = labels ?? new Dictionary<string, string>() },
            rootfs = new { type = "layers", diff_ids = new[] { Sha(tar) } },
        });
        await PushBlobAsync(client, repository, layer);
        await PushBlobAsync(client, repository, config);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = OciManifest,
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = Sha(config), size = config.Length },
            layers = new[] { new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = Sha(layer), size = layer.Length } },
        });
        await PutManifestAsync(client, repository, tag, manifest, OciManifest);
        return new PushedManifest(Sha(manifest), OciManifest, manifest.Length, layer.Length + config.Length);
    }

    /// <summary>A multi-platform OCI index over linux/amd64 and linux/arm64 images.</summary>
    public static async Task<(PushedManifest Index, PushedManifest Amd64, PushedManifest Arm64)> PushIndexAsync(RegistryServer registry, string repository, string tag)
    {
        var amd64 = await PushImageAsync(registry, repository, tag + "-amd64", architecture: "amd64", seed: tag);
        var arm64 = await PushImageAsync(registry, repository, tag + "-arm64", architecture: "arm64", seed: tag);
        var index = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = OciIndex,
            manifests = new object[]
            {
                new { mediaType = OciManifest, digest = amd64.Digest, size = amd64.Size, platform = new { architecture = "amd64", os = "linux" } },
                new { mediaType = OciManifest, digest = arm64.Digest, size = arm64.Size, platform = new { architecture = "arm64", os = "linux", variant = "v8" } },
            },
        });
        using var client = registry.Pusher(repository);
        await PutManifestAsync(client, repository, tag, index, OciIndex);
        return (new PushedManifest(Sha(index), OciIndex, index.Length, 0), amd64, arm64);
    }

    /// <summary>Points another tag at the same manifest, as <c>docker tag</c> + push does: one image, several tags.</summary>
    public static async Task RetagAsync(RegistryServer registry, string repository, string tag, string newTag)
    {
        using var client = registry.Pusher(repository);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciManifest));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciIndex));
        var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var manifest = await response.Content.ReadAsByteArrayAsync();
        await PutManifestAsync(client, repository, newTag, manifest, response.Content.Headers.ContentType!.MediaType!);
    }

    public static async Task DeleteTagAsync(RegistryServer registry, string repository, string digest)
    {
        using var client = registry.Pusher(repository);
        (await client.DeleteAsync($"/v2/{repository}/manifests/{digest}")).EnsureSuccessStatusCode();
    }

    public static async Task PushBlobAsync(HttpClient client, string repository, byte[] blob)
    {
        var start = await client.PostAsync($"/v2/{repository}/blobs/uploads/", null);
        start.EnsureSuccessStatusCode();
        var location = start.Headers.Location!;
        var uri = location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString;
        var separator = uri.Contains('?') ? '&' : '?';
        var content = new ByteArrayContent(blob);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        (await client.PutAsync($"{uri}{separator}digest={Uri.EscapeDataString(Sha(blob))}", content)).EnsureSuccessStatusCode();
    }

    public static async Task PutManifestAsync(HttpClient client, string repository, string tag, byte[] manifest, string mediaType)
    {
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        var response = await client.PutAsync($"/v2/{repository}/manifests/{tag}", content);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"push of {repository}:{tag} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>A tar archive of one file, the same bytes every time (no timestamps or owners from this machine).</summary>
    private static byte[] Tar(string name, byte[] content)
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name)
            {
                DataStream = new MemoryStream(content),
                ModificationTime = DateTimeOffset.UnixEpoch,
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            });
        }

        return output.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    public static string Sha(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));
}
