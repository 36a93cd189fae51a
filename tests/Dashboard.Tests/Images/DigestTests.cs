using System.Text;
using Dashboard.Domain.Images;

namespace Dashboard.Tests.Images;

public class DigestTests
{
    private const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private const string EmptySha512 =
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

    [Theory]
    [InlineData("sha256:" + EmptySha256, "sha256", EmptySha256)]
    [InlineData("sha512:" + EmptySha512, "sha512", EmptySha512)]
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "sha256", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Sha256_and_sha512_digests_are_accepted(string value, string algorithm, string hex)
    {
        var digest = Digest.Parse(value);

        Assert.Equal(algorithm, digest.Algorithm);
        Assert.Equal(hex, digest.Hex);
        Assert.Equal(value, digest.ToString());
    }

    [Theory]
    [InlineData(null, "A digest is required.")]
    [InlineData("", "A digest is required.")]
    [InlineData("sha256", "'sha256' is not a digest: expected algorithm:hex")]
    [InlineData(":" + EmptySha256, "is not a digest: expected algorithm:hex")]
    [InlineData(EmptySha256, "is not a digest: expected algorithm:hex")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e", "Digest algorithm 'md5' is not supported: use sha256 or sha512.")]
    [InlineData("SHA256:" + EmptySha256, "Digest algorithm 'SHA256' is not supported")]
    [InlineData("sha384:38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b", "Digest algorithm 'sha384' is not supported")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "A sha256 digest has exactly 64 lower-case hex characters.")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", "A sha256 digest has exactly 64 lower-case hex characters.")]
    [InlineData("sha256:" + EmptySha256 + "0", "A sha256 digest has exactly 64 lower-case hex characters.")]
    [InlineData("sha256:", "A sha256 digest has exactly 64 lower-case hex characters.")]
    [InlineData("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "A sha256 digest has exactly 64 lower-case hex characters.")]
    [InlineData("sha512:" + EmptySha256, "A sha512 digest has exactly 128 lower-case hex characters.")]
    [InlineData("sha256:" + EmptySha512, "A sha256 digest has exactly 64 lower-case hex characters.")]
    public void Invalid_digests_are_refused_with_a_message_naming_the_problem(string? value, string problem)
    {
        Assert.False(Digest.TryParse(value, out var digest, out var error));
        Assert.Null(digest);
        Assert.Contains(problem, error, StringComparison.Ordinal);

        if (value is not null)
        {
            Assert.Equal(error, Assert.Throws<FormatException>(() => Digest.Parse(value)).Message);
        }
    }

    [Fact]
    public void A_long_unknown_algorithm_is_shortened_in_the_message()
    {
        var algorithm = new string('x', 50);

        Assert.False(Digest.TryParse(algorithm + ":abc", out _, out var error));

        Assert.Contains($"'{new string('x', 40)}…'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Sha256_of_no_bytes_is_the_well_known_empty_digest()
    {
        Assert.Equal("sha256:" + EmptySha256, Digest.Sha256([]).ToString());
    }

    [Fact]
    public void Sha256_of_content_matches_the_published_test_vector()
    {
        var digest = Digest.Sha256(Encoding.ASCII.GetBytes("abc"));

        Assert.Equal("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", digest.ToString());
        Assert.Equal(Digest.Parse(digest.ToString()), digest);
    }

    [Fact]
    public void Short_is_the_first_twelve_hex_characters()
    {
        Assert.Equal("e3b0c44298fc", Digest.Parse("sha256:" + EmptySha256).Short);
        Assert.Equal("cf83e1357eef", Digest.Parse("sha512:" + EmptySha512).Short);
    }

    [Fact]
    public void Digests_compare_by_value()
    {
        Assert.Equal(Digest.Parse("sha256:" + EmptySha256), Digest.Sha256([]));
        Assert.NotEqual(Digest.Parse("sha256:" + EmptySha256), Digest.Sha256("abc"u8));
    }

    [Fact]
    public void The_longest_digest_fits_max_length()
    {
        Assert.Equal(Digest.MaxLength, ("sha512:" + EmptySha512).Length);
    }
}
