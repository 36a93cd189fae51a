using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Dashboard.Domain.Images;

/// <summary>
/// A content digest, <c>algorithm:hex</c>, as the OCI image spec defines it
/// (https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests).
/// Only the registered algorithms sha256 and sha512 are accepted, with lower-case hex of the exact length.
/// </summary>
public sealed record Digest
{
    /// <summary>The longest digest text: <c>sha512:</c> and 128 hex characters.</summary>
    public const int MaxLength = 135;

    private Digest(string algorithm, string hex)
    {
        Algorithm = algorithm;
        Hex = hex;
    }

    public string Algorithm { get; }

    public string Hex { get; }

    /// <summary>The first twelve hex characters, the way registries and consoles abbreviate a digest.</summary>
    public string Short => Hex[..12];

    public static Digest Parse(string value) =>
        TryParse(value, out var digest, out var error) ? digest : throw new FormatException(error);

    public static bool TryParse(string? value, [NotNullWhen(true)] out Digest? digest, [NotNullWhen(false)] out string? error)
    {
        digest = null;
        if (string.IsNullOrEmpty(value))
        {
            error = "A digest is required.";
            return false;
        }

        var colon = value.IndexOf(':');
        if (colon <= 0)
        {
            error = $"'{Truncate(value)}' is not a digest: expected algorithm:hex, e.g. sha256:…";
            return false;
        }

        var algorithm = value[..colon];
        var hex = value[(colon + 1)..];
        var expected = algorithm switch
        {
            "sha256" => 64,
            "sha512" => 128,
            _ => 0,
        };
        if (expected == 0)
        {
            error = $"Digest algorithm '{Truncate(algorithm)}' is not supported: use sha256 or sha512.";
            return false;
        }

        if (hex.Length != expected || !hex.All(char.IsAsciiHexDigitLower))
        {
            error = $"A {algorithm} digest has exactly {expected} lower-case hex characters.";
            return false;
        }

        digest = new Digest(algorithm, hex);
        error = null;
        return true;
    }

    /// <summary>The sha256 digest of <paramref name="content"/>, as registries compute it for manifests and blobs.</summary>
    public static Digest Sha256(ReadOnlySpan<byte> content) =>
        new("sha256", Convert.ToHexStringLower(SHA256.HashData(content)));

    /// <summary>A hash of this digest's algorithm, to verify content that streams by (every algorithm <see cref="TryParse"/> accepts).</summary>
    public IncrementalHash CreateHash() => IncrementalHash.CreateHash(Algorithm switch
    {
        "sha256" => HashAlgorithmName.SHA256,
        "sha512" => HashAlgorithmName.SHA512,
        _ => throw new InvalidOperationException($"No hash for digest algorithm {Algorithm}."),
    });

    /// <summary>Whether <paramref name="content"/> has this digest, computed with this digest's own algorithm.</summary>
    public bool Matches(ReadOnlySpan<byte> content)
    {
        using var hash = CreateHash();
        hash.AppendData(content);
        return Convert.ToHexStringLower(hash.GetHashAndReset()) == Hex;
    }

    /// <summary>Whether a finished <paramref name="hash"/> (from <see cref="CreateHash"/>) is this digest.</summary>
    public bool Matches(IncrementalHash hash) => Convert.ToHexStringLower(hash.GetHashAndReset()) == Hex;

    public override string ToString() => $"{Algorithm}:{Hex}";

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
