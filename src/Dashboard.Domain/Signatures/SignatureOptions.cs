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
}
