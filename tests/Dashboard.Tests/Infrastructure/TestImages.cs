using System.Text;
using Dashboard.Domain.Images;

namespace Dashboard.Tests.Infrastructure;

/// <summary>
/// Image metadata as an import records it, for tests about pages and the API that need images but no registry
/// (the import tests use a real registry).
/// </summary>
public static class TestImages
{
    public static Image Sample(string seed, string source = "quay.io/org/app:1.0")
    {
        var digest = Digest.Sha256(Encoding.UTF8.GetBytes("manifest:" + seed));
        return new Image(digest, ImageReference.Parse(source), "application/vnd.oci.image.manifest.v1+json", 3_145_728 + 1_234,
            [
                new ImageLayer(Digest.Sha256(Encoding.UTF8.GetBytes("layer1:" + seed)).ToString(), 3_145_728, "application/vnd.oci.image.layer.v1.tar+gzip"),
                new ImageLayer(Digest.Sha256(Encoding.UTF8.GetBytes("layer2:" + seed)).ToString(), 1_000, "application/vnd.oci.image.layer.v1.tar+gzip"),
            ],
            new ImageConfig
            {
                Created = new DateTime(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc),
                Architecture = "amd64",
                Os = "linux",
                Labels = new Dictionary<string, string> { ["org.opencontainers.image.version"] = "1.0", ["maintainer"] = "team-a" },
            },
            []);
    }
}
