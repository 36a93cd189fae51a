using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace Dashboard.Domain.Signatures;

/// <summary>
/// A PEM public key (<c>-----BEGIN PUBLIC KEY-----</c>, SubjectPublicKeyInfo) that verifies cosign signatures: ECDSA P-256
/// or P-384 (ASN.1/DER signatures), RSA of 2048 bits or more (PKCS#1 v1.5), each over the SHA-256 of the payload as cosign's
/// keyed verifier does, and Ed25519 over the payload itself. .NET has no Ed25519, so that one is BouncyCastle's.
/// </summary>
public sealed class PublicKey
{
    public const int MaxPemLength = 16 * 1024;

    private readonly byte[] _spki;

    private PublicKey(byte[] spki, string algorithm)
    {
        _spki = spki;
        Algorithm = algorithm;
        Fingerprint = Images.Digest.Sha256(spki).ToString();
    }

    /// <summary>e.g. <c>ECDSA P-256</c>, <c>RSA 3072</c>, <c>Ed25519</c>.</summary>
    public string Algorithm { get; }

    /// <summary>sha256 of the DER key, to tell keys apart in the audit trail and on the page.</summary>
    public string Fingerprint { get; }

    public static bool TryParse(string? pem, [NotNullWhen(true)] out PublicKey? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        if (string.IsNullOrWhiteSpace(pem))
        {
            error = "A PEM public key is required (-----BEGIN PUBLIC KEY----- …).";
            return false;
        }

        if (pem.Length > MaxPemLength)
        {
            error = $"A public key has at most {MaxPemLength} characters of PEM.";
            return false;
        }

        if (!PemEncoding.TryFind(pem, out var fields) || pem[fields.Label] != "PUBLIC KEY")
        {
            error = "Not a PEM public key: expected one -----BEGIN PUBLIC KEY----- block (cosign.pub, or openssl pkey -pubout).";
            return false;
        }

        byte[] der;
        try
        {
            der = Convert.FromBase64String(pem[fields.Base64Data].ToString());
            error = Classify(der, out var algorithm);
            if (error is null)
            {
                key = new PublicKey(der, algorithm!);
            }

            return key is not null;
        }
        catch (Exception e)
        {
            // Whatever a malformed key makes the ASN.1 reader throw is the caller's input, not a server error.
            error = $"The PEM block is not a public key that can be read: {e.Message}";
            return false;
        }
    }

    /// <summary>Whether <paramref name="signature"/> is this key's signature of exactly <paramref name="payload"/>.</summary>
    public bool Verify(byte[] payload, byte[] signature)
    {
        try
        {
            switch (PublicKeyFactory.CreateKey(_spki))
            {
                case ECPublicKeyParameters:
                    using (var ecdsa = ECDsa.Create())
                    {
                        ecdsa.ImportSubjectPublicKeyInfo(_spki, out _);
                        return ecdsa.VerifyData(payload, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                    }

                case RsaKeyParameters:
                    using (var rsa = RSA.Create())
                    {
                        rsa.ImportSubjectPublicKeyInfo(_spki, out _);
                        return rsa.VerifyData(payload, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                    }

                case Ed25519PublicKeyParameters ed25519:
                    var signer = new Ed25519Signer();
                    signer.Init(false, ed25519);
                    signer.BlockUpdate(payload, 0, payload.Length);
                    return signer.VerifySignature(signature);
                default:
                    return false;
            }
        }
        catch (CryptographicException)
        {
            // A signature that is not even well-formed DER verifies nothing.
            return false;
        }
    }

    private const string P256 = "1.2.840.10045.3.1.7";
    private const string P384 = "1.3.132.0.34";

    private static string? Classify(byte[] der, out string? algorithm)
    {
        algorithm = null;
        switch (PublicKeyFactory.CreateKey(der))
        {
            case ECPublicKeyParameters ec when ec.PublicKeyParamSet?.Id is P256 or P384:
                algorithm = ec.PublicKeyParamSet.Id == P256 ? "ECDSA P-256" : "ECDSA P-384";
                return null;
            case ECPublicKeyParameters ec:
                return $"An ECDSA key must be on the named curve P-256 or P-384, not {ec.PublicKeyParamSet?.Id ?? "explicit parameters"}.";
            case RsaKeyParameters rsa when rsa.Modulus.BitLength >= 2048 && rsa.Modulus.BitLength <= 16384:
                algorithm = $"RSA {rsa.Modulus.BitLength}";
                return null;
            case RsaKeyParameters rsa:
                return $"An RSA key needs 2048 to 16384 bits, not {rsa.Modulus.BitLength}.";
            case Ed25519PublicKeyParameters:
                algorithm = "Ed25519";
                return null;
            case var other:
                return $"A {other.GetType().Name.Replace("Parameters", "")} key cannot verify cosign signatures: use ECDSA P-256/P-384, RSA or Ed25519.";
        }
    }
}
