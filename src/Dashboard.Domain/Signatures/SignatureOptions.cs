using System.ComponentModel.DataAnnotations;

namespace Dashboard.Domain.Signatures;

/// <summary>The <c>Dashboard:Signatures</c> settings.</summary>
public sealed class SignatureOptions
{
    public const string Section = "Dashboard:Signatures";

    /// <summary>
    /// How often a scheduled check of an unchanged tag looks for new signatures of its image (a scanner that signs later):
    /// at most once per this many minutes per image. A changed image is always looked at.
    /// </summary>
    [Range(1, 7 * 24 * 60)]
    public int RecheckMinutes { get; set; } = 60;

    /// <summary>
    /// Other repository names a signature may name (<c>critical.identity.docker-reference</c>) than the one an image is
    /// imported from: an image imported from under <see cref="SignatureIdentity.Source"/> may carry a signature naming the
    /// same path under <see cref="SignatureIdentity.Accept"/> (another dashboard's stream signed as its upstream, a registry
    /// that was renamed). Without an entry, a signature must name the repository the image came from.
    /// </summary>
    [MaxLength(100)]
    public List<SignatureIdentity> Identities { get; set; } = [];

    /// <summary>Whether a signature naming <paramref name="named"/> may vouch for an image imported from <paramref name="source"/>.</summary>
    public bool Accepts(Images.ImageReference source, Images.ImageReference named)
    {
        var from = $"{source.Registry}/{source.Repository}";
        var to = $"{named.Registry}/{named.Repository}";
        return from == to || Identities.Any(i => i.Accepts(from, to));
    }
}

/// <summary>A configured identity: images from under <see cref="Source"/> (host or host/path, whole segments) may be signed as under <see cref="Accept"/>.</summary>
public sealed class SignatureIdentity
{
    public string Source { get; set; } = "";

    public string Accept { get; set; } = "";

    internal bool Accepts(string from, string to)
    {
        var source = Source.Trim().TrimEnd('/');
        var accept = Accept.Trim().TrimEnd('/');
        if (source.Length == 0 || accept.Length == 0 || !(from == source || from.StartsWith(source + "/", StringComparison.Ordinal)))
        {
            return false;
        }

        return to == accept + from[source.Length..];
    }
}
