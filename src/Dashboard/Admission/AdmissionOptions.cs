using System.ComponentModel.DataAnnotations;
using Dashboard.Domain.Policy;
using Dashboard.Hosting;

namespace Dashboard.Admission;

/// <summary>The <c>Dashboard:Admission</c> settings.</summary>
public sealed class AdmissionOptions
{
    public const string Section = "Dashboard:Admission";

    /// <summary>
    /// When set, the admission endpoints answer only requests with <c>Authorization: Bearer &lt;this&gt;</c> — the token the
    /// API server presents through its admission kubeconfig. Empty: only callers from <see cref="AllowedNetworks"/>.
    /// </summary>
    public string? BearerToken { get; set; }

    /// <summary>
    /// While no <see cref="BearerToken"/> is set, the networks (CIDR) whose callers the admission endpoints answer; nobody
    /// else learns digests or rule descriptions from them, or fills the decision log. Unset: loopback only (a default
    /// here would be appended to by the configuration binder, not replaced).
    /// </summary>
    public string[]? AllowedNetworks { get; set; }

    public IReadOnlyList<string> Networks => AllowedNetworks ?? NetworkAllowList.Loopback;

    /// <summary>How long admission decisions are kept for the decisions page.</summary>
    [Range(1, 3650)]
    public int DecisionRetentionDays { get; set; } = 7;

    /// <summary>
    /// How many decisions wait for the database at most; past it a decision is not kept (the answer is not affected) and
    /// <c>dashboard_admission_decisions_dropped_total</c> counts it.
    /// </summary>
    [Range(1, 1_000_000)]
    public int DecisionQueueCapacity { get; set; } = AdmissionDecisionQueue.DefaultCapacity;

    /// <summary>How <c>/admission/mutate</c> pins tag references to digests.</summary>
    public ResolveImages ResolveImages { get; set; } = ResolveImages.AttemptRewrite;

    /// <summary>
    /// A port of its own for the admission endpoints, over HTTPS with <see cref="CertificateFile"/> and <see cref="KeyFile"/>
    /// (PEM), as a cluster's API server requires; 0 serves them on the app's own addresses.
    /// </summary>
    [Range(0, 65535)]
    public int Port { get; set; }

    public string? CertificateFile { get; set; }

    public string? KeyFile { get; set; }

    /// <summary>The largest AdmissionReview read (the API server sends up to about 3 MiB).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 4 * 1024 * 1024;
}
