using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dashboard.Domain.Registry;

namespace Dashboard.Bench;

/// <summary>
/// Pushes small distinct single-platform OCI images (a gzip layer, a config with a label, a manifest) with the
/// registry's upload API: blob upload <c>POST</c> + <c>PUT</c>, manifest <c>PUT</c>. No Docker, no network.
/// </summary>
internal static class ImagePusher
{
    /// <summary>Pushes a small image and returns its digest; the same repository, tag and <paramref name="variant"/> always give the same digest.</summary>
    public static async Task<string> PushImageAsync(HttpClient client, string repository, string tag, CancellationToken ct, string variant = "")
    {
        var tar = Encoding.UTF8.GetBytes($"layer of {repository}:{tag}{variant}");
        var layer = Gzip(tar);
        var config = JsonSerializer.SerializeToUtf8Bytes(new
        {
            architecture = "amd64",
            os = "linux",
            created = "2026-11-01T12:00:00Z",
            config = new { Labels = new Dictionary<string, string> { ["bench.tag"] = tag } },
            rootfs = new { type = "layers", diff_ids = new[] { Sha(tar) } },
        });
        await PushBlobAsync(client, repository, layer, ct);
        await PushBlobAsync(client, repository, config, ct);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciManifest,
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = Sha(config), size = config.Length },
            layers = new[] { new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = Sha(layer), size = layer.Length } },
        });
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using var response = await client.PutAsync($"/v2/{repository}/manifests/{tag}", content, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"push of {repository}:{tag} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }

        return Sha(manifest);
    }

    /// <summary>
    /// Signs <paramref name="imageDigest"/> as cosign does with a key (a simple-signing payload naming the image and
    /// <paramref name="dockerReference"/>, ECDSA over its SHA-256) and pushes the signature manifest under cosign's
    /// <c>sha256-&lt;hex&gt;.sig</c> tag: config <c>{}</c>, the payload as its one layer with the signature annotation.
    /// </summary>
    public static async Task PushSignatureAsync(HttpClient client, string repository, string imageDigest, string dockerReference, ECDsa key,
        CancellationToken ct)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new
        {
            critical = new
            {
                identity = new Dictionary<string, string> { ["docker-reference"] = dockerReference },
                image = new Dictionary<string, string> { ["docker-manifest-digest"] = imageDigest },
                type = "cosign container image signature",
            },
            optional = (object?)null,
        });
        var signature = Convert.ToBase64String(key.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        var config = "{}"u8.ToArray();
        await PushBlobAsync(client, repository, config, ct);
        await PushBlobAsync(client, repository, payload, ct);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciManifest,
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = Sha(config), size = config.Length },
            layers = new[]
            {
                new
                {
                    mediaType = "application/vnd.dev.cosign.simplesigning.v1+json", digest = Sha(payload), size = payload.Length,
                    annotations = new Dictionary<string, string> { ["dev.cosignproject.cosign/signature"] = signature },
                },
            },
        });
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using var response = await client.PutAsync($"/v2/{repository}/manifests/{imageDigest.Replace(':', '-')}.sig", content, ct);
        response.EnsureSuccessStatusCode();
    }

    private static async Task PushBlobAsync(HttpClient client, string repository, byte[] blob, CancellationToken ct)
    {
        using var start = await client.PostAsync($"/v2/{repository}/blobs/uploads/", null, ct);
        start.EnsureSuccessStatusCode();
        var location = start.Headers.Location ?? throw new InvalidOperationException("the registry named no upload location");
        var uri = location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString;
        var separator = uri.Contains('?') ? '&' : '?';
        var content = new ByteArrayContent(blob);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await client.PutAsync($"{uri}{separator}digest={Uri.EscapeDataString(Sha(blob))}", content, ct);
        put.EnsureSuccessStatusCode();
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

    private static string Sha(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));
}
