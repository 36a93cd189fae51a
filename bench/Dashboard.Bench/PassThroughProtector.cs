using Dashboard.Domain.PullSecrets;

namespace Dashboard.Bench;

/// <summary>
/// Pull secrets play no part in the benchmarks (the registry is open), but PullSecretService needs a protector; the host's
/// Data Protection one lives in src/Dashboard, so a pass-through stands in.
/// </summary>
internal sealed class PassThroughProtector : ISecretProtector
{
    public string Protect(string plaintext) => plaintext;

    public string Unprotect(string protectedText) => protectedText;
}
