using System.Text;
using System.Text.Json;

namespace Dashboard.Tests.Infrastructure;

public enum SigningKey
{
    EcdsaP256,
    Rsa2048,
    Ed25519,
}

/// <summary>
/// One cosign signature as a layer of the signature manifest: the simple-signing payload and its base64 signature (the
/// <c>dev.cosignproject.cosign/signature</c> annotation).
/// </summary>
public sealed record CosignLayer(byte[] Payload, string Signature)
{
    /// <summary>The same signature over a payload changed after signing (one more field), as a tampering registry would serve it.</summary>
    public CosignLayer Tampered()
    {
        var text = Encoding.UTF8.GetString(Payload);
        return this with { Payload = Encoding.UTF8.GetBytes(text.Replace("\"optional\":null", "\"optional\":{\"tampered\":\"yes\"}", StringComparison.Ordinal)) };
    }
}

/// <summary>
/// Signs images the way cosign's documentation shows for external signers ("sign with OpenSSL, verify with cosign"), since
/// cosign is not packaged here: a key pair made by Debian's openssl, the simple-signing payload for an image's digest,
/// signed with <c>openssl dgst -sha256 -sign</c> (ECDSA, RSA) or <c>openssl pkeyutl -sign -rawin</c> (Ed25519), and pushed
/// to the image's repository as cosign does: an OCI manifest (config <c>{}</c>, one layer per signature) under the tag
/// <c>sha256-&lt;hex&gt;.sig</c>.
/// </summary>
/// <example>
/// <code>
/// using var signer = await CosignSigner.CreateAsync();            // EC P-256
/// await admin.PutAsJsonAsync("/api/v1/policy/keys/release", new { publicKey = signer.PublicKeyPem });
/// await signer.SignAndPushAsync(registry, "team/app", pushed.Digest);
/// </code>
/// </example>
public sealed class CosignSigner : IDisposable
{
    public const string PayloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";
    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";

    private readonly string _directory;
    private readonly SigningKey _kind;

    private CosignSigner(string directory, SigningKey kind, string publicKeyPem)
    {
        _directory = directory;
        _kind = kind;
        PublicKeyPem = publicKeyPem;
    }

    /// <summary>The public key as <c>cosign.pub</c> holds it (PEM SubjectPublicKeyInfo).</summary>
    public string PublicKeyPem { get; }

    private string PrivateKey => Path.Combine(_directory, "key.pem");

    public static async Task<CosignSigner> CreateAsync(SigningKey kind = SigningKey.EcdsaP256)
    {
        var directory = Path.Combine(Path.GetTempPath(), "cosign-signer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var key = Path.Combine(directory, "key.pem");
        await OpensslAsync(kind switch
        {
            SigningKey.EcdsaP256 => ["ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", key],
            SigningKey.Rsa2048 => ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
            _ => ["genpkey", "-algorithm", "ED25519", "-out", key],
        });
        var pub = Path.Combine(directory, "cosign.pub");
        await OpensslAsync(["pkey", "-in", key, "-pubout", "-out", pub]);
        return new CosignSigner(directory, kind, await File.ReadAllTextAsync(pub));
    }

    /// <summary>The simple-signing payload cosign writes for an image (https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md).</summary>
    public static byte[] Payload(string imageDigest, string dockerReference) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
    {
        critical = new
        {
            identity = new Dictionary<string, string> { ["docker-reference"] = dockerReference },
            image = new Dictionary<string, string> { ["docker-manifest-digest"] = imageDigest },
            type = "cosign container image signature",
        },
        optional = (object?)null,
    }));

    /// <summary>A signature of <paramref name="imageDigest"/> naming <paramref name="dockerReference"/> (<c>host/repository</c>), not pushed.</summary>
    public async Task<CosignLayer> SignAsync(string imageDigest, string dockerReference)
    {
        var payload = Payload(imageDigest, dockerReference);
        var file = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".json");
        var signature = file + ".sig";
        await File.WriteAllBytesAsync(file, payload);
        await OpensslAsync(_kind == SigningKey.Ed25519
            ? ["pkeyutl", "-sign", "-rawin", "-inkey", PrivateKey, "-in", file, "-out", signature]
            : ["dgst", "-sha256", "-sign", PrivateKey, "-out", signature, file]);
        return new CosignLayer(payload, Convert.ToBase64String(await File.ReadAllBytesAsync(signature)));
    }

    /// <summary>Signs <paramref name="imageDigest"/> as an image of <c>registry/repository</c> and pushes the signature (replacing the <c>.sig</c> tag's).</summary>
    public async Task<CosignLayer> SignAndPushAsync(RegistryServer registry, string repository, string imageDigest)
    {
        var layer = await SignAsync(imageDigest, $"{registry.Host}/{repository}");
        await PushAsync(registry, repository, imageDigest, layer);
        return layer;
    }

    /// <summary>
    /// Pushes <paramref name="layers"/> as the signatures of <paramref name="imageDigest"/> under <c>sha256-&lt;hex&gt;.sig</c>
    /// in <paramref name="repository"/>; cosign appends a new signature to the ones there, so pass them all.
    /// </summary>
    public static async Task<string> PushAsync(RegistryServer registry, string repository, string imageDigest, params CosignLayer[] layers)
    {
        using var client = registry.Pusher(repository);
        var config = "{}"u8.ToArray();
        await ImagePusher.PushBlobAsync(client, repository, config);
        foreach (var layer in layers)
        {
            await ImagePusher.PushBlobAsync(client, repository, layer.Payload);
        }

        var manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = ImagePusher.OciManifest,
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = ImagePusher.Sha(config), size = config.Length },
            layers = layers.Select(l => new
            {
                mediaType = PayloadMediaType,
                digest = ImagePusher.Sha(l.Payload),
                size = l.Payload.Length,
                annotations = new Dictionary<string, string> { [SignatureAnnotation] = l.Signature },
            }),
        });
        await ImagePusher.PutManifestAsync(client, repository, SignatureTag(imageDigest), manifest, ImagePusher.OciManifest);
        return ImagePusher.Sha(manifest);
    }

    public static string SignatureTag(string imageDigest) => imageDigest.Replace(':', '-') + ".sig";

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory; the OS cleans it later.
        }
    }

    private static async Task OpensslAsync(string[] arguments)
    {
        var result = await Command.RunAsync("openssl", arguments);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"openssl {string.Join(' ', arguments)}: {result}");
        }
    }
}
