using System.Security.Cryptography;
using System.Text;
using Dashboard.Domain.Images;
using Dashboard.Domain.Policy;
using Dashboard.Domain.Policy.Conditions;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Signatures;

namespace Dashboard.Tests.Signatures;

/// <summary>The parts of signature checking that need no registry: keys, payloads, the referrers answer, the signedBy condition.</summary>
public sealed class CosignSignatureTests
{
    private static readonly Digest Image = Digest.Sha256("image"u8);
    private static readonly ImageReference Repository = ImageReference.Parse("registry.example.com/team/app:1");

    [Fact]
    public void A_p384_key_verifies_over_the_sha256_of_the_payload_as_cosign_does()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.True(PublicKey.TryParse(ecdsa.ExportSubjectPublicKeyInfoPem(), out var key, out var error), error);
        Assert.Equal("ECDSA P-384", key.Algorithm);
        var payload = CosignSignerPayload("registry.example.com/team/app");
        var signature = Convert.ToBase64String(ecdsa.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

        var checkedSignature = CosignSignature.Check(Image, Repository, payload, signature, [new NamedKey("p384", key)]);

        Assert.Equal(("p384", true), (checkedSignature.Key, checkedSignature.Verified));
        Assert.Equal("registry.example.com/team/app", checkedSignature.Identity);
    }

    [Theory]
    [InlineData("dev.example.com:5000/shop/app", "registry.example.com/team/app", true)]
    [InlineData("dev.example.com:5000/shop/app", "registry.example.com/team/other", false)]
    [InlineData("dev.example.com:5000/shopping/app", "registry.example.com/team/app", false)]
    [InlineData("dev.example.com:5000/shop/app", "dev.example.com:5000/shop/app", true)]
    public void A_configured_identity_lets_a_signature_name_the_same_path_under_another_repository_prefix_and_nothing_else(string importedFrom,
        string signedAs, bool verifies)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.True(PublicKey.TryParse(ecdsa.ExportSubjectPublicKeyInfoPem(), out var key, out _));
        var payload = CosignSignerPayload(signedAs);
        var signature = Convert.ToBase64String(ecdsa.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        var options = new SignatureOptions { Identities = [new SignatureIdentity { Source = "dev.example.com:5000/shop/", Accept = "registry.example.com/team" }] };

        var checkedSignature = CosignSignature.Check(Image, ImageReference.Parse(importedFrom + ":1"), payload, signature, [new NamedKey("release", key)], options);

        Assert.Equal(verifies, checkedSignature.Verified);
        Assert.Contains(verifies ? "verified by release" : "or an identity Dashboard:Signatures:Identities accepts", checkedSignature.Reason);
    }

    [Theory]
    [InlineData("", "A PEM public key is required")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "Not a PEM public key")]
    [InlineData("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not a public key that can be read")]
    public void A_key_that_is_not_a_usable_public_key_is_refused_with_a_reason(string pem, string says)
    {
        Assert.False(PublicKey.TryParse(pem, out _, out var error));
        Assert.Contains(says, error);
    }

    [Fact]
    public void Small_rsa_keys_and_other_curves_are_refused()
    {
        using var rsa = RSA.Create(1024);
        Assert.False(PublicKey.TryParse(rsa.ExportSubjectPublicKeyInfoPem(), out _, out var small));
        Assert.Contains("2048", small);
        using var p521 = ECDsa.Create(ECCurve.NamedCurves.nistP521);
        Assert.False(PublicKey.TryParse(p521.ExportSubjectPublicKeyInfoPem(), out _, out var curve));
        Assert.Contains("P-256 or P-384", curve);
    }

    [Fact]
    public void A_payload_of_another_type_or_not_json_verifies_nothing()
    {
        Assert.Contains("not JSON", CosignSignature.Check(Image, Repository, "nope"u8.ToArray(), "AA==", []).Reason);
        var other = Encoding.UTF8.GetBytes("""{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"y"},"type":"atomic container signature"}}""");
        Assert.Contains("not 'cosign container image signature'", CosignSignature.Check(Image, Repository, other, "AA==", []).Reason);
    }

    /// <summary>
    /// docker-registry 2.8 has no referrers API, so the referrers path is checked here on an answer as the OCI 1.1 spec
    /// shows it: only cosign signature manifests are taken, whatever else refers to the image.
    /// </summary>
    [Fact]
    public void A_referrers_answer_yields_the_cosign_signature_manifests_only()
    {
        var sig = Digest.Sha256("sig"u8);
        var index = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{sig}}","size":600,"artifactType":"application/vnd.dev.cosign.artifact.sig.v1+json"},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{Digest.Sha256("sbom"u8)}}","size":700,"artifactType":"application/spdx+json"},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"not-a-digest","artifactType":"application/vnd.dev.cosign.artifact.sig.v1+json"}]}
            """);

        Assert.Equal([sig], SignatureFinder.CosignReferrers(index));
        Assert.Empty(SignatureFinder.CosignReferrers("""{"schemaVersion":2,"manifests":[]}"""u8.ToArray()));
        Assert.Throws<RegistryException>(() => SignatureFinder.CosignReferrers("<html>"u8.ToArray()));
        Assert.Equal($"sha256-{Image.Hex}.sig", SignatureFinder.SignatureTag(Image));
        Assert.True(SignatureFinder.IsArtifactTag(SignatureFinder.SignatureTag(Image)));
        Assert.False(SignatureFinder.IsArtifactTag("sha256-abc.sig"));
    }

    [Fact]
    public void Signed_by_any_of_or_all_of_its_keys_and_says_which_key_signed()
    {
        var policy = PolicyValidator.Compile([
            new PolicyRule { Name = "any", SignedBy = ["release", "scanner"] },
            new PolicyRule { Name = "all", SignedBy = ["release", "scanner"], SignedByMode = SignedByMode.AllOf },
        ]);
        var bySome = new ImageFact(true, Image.ToString(), new Dictionary<string, string>(), new Dictionary<string, string>(), SignedBy: ["release"]);

        Assert.True(policy.RuleMatches("any", Repository, bySome));
        Assert.False(policy.RuleMatches("all", Repository, bySome));
        Assert.False(policy.RuleMatches("any", Repository, ImageFact.Unknown));
        Assert.Equal(["signed by release | scanner"], policy.Summary("any"));
        var condition = new SignedByCondition(["release", "scanner"], SignedByMode.AllOf);
        Assert.Equal("no signature by scanner (signed by release; needs all of release, scanner)", condition.Explain(Repository, bySome, held: false));
        Assert.Equal("signed by release", new SignedByCondition(["release"], SignedByMode.AnyOf).Explain(Repository, bySome, held: true));
    }

    [Fact]
    public void Signed_by_mode_without_keys_and_bad_key_names_are_refused_by_field()
    {
        var error = Assert.Throws<Dashboard.Domain.ValidationFailedException>(() => PolicyValidator.Compile([
            new PolicyRule { Name = "a", SignedByMode = SignedByMode.AllOf },
            new PolicyRule { Name = "b", SignedBy = ["Not A Key"] },
        ]));
        Assert.Contains("rules[0].signedByMode", error.Errors.Keys);
        Assert.Contains("rules[1].signedBy[0]", error.Errors.Keys);
    }

    private static byte[] CosignSignerPayload(string reference) =>
        Dashboard.Tests.Infrastructure.CosignSigner.Payload(Image.ToString(), reference);
}
