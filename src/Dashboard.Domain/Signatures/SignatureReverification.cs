using Dashboard.Domain.Images;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Signatures;

/// <summary>
/// After a trusted key is added, replaced or deleted, every stored signature is judged again with the keys as they are
/// now, from the payload and signature stored with it: no registry call, and an image signed by a key added later counts
/// as signed at once. Runs in the background on this instance, one pass at a time; a change during a pass asks for
/// another. Instances share the database, so one pass judges for all.
/// </summary>
public sealed class SignatureReverification(IDbContextFactory<DashboardDbContext> contexts, IImageFacts facts,
    IOptionsMonitor<SignatureOptions> options, ILogger<SignatureReverification> logger)
{
    private const int Page = 200;
    private readonly Lock _gate = new();
    private Task _running = Task.CompletedTask;
    private bool _again;

    /// <summary>The pass under way or the last one (tests wait for it).</summary>
    public Task Running
    {
        get
        {
            lock (_gate)
            {
                return _running;
            }
        }
    }

    /// <summary>Asks for a pass: starts one, or has the running one followed by another.</summary>
    public void Request()
    {
        lock (_gate)
        {
            if (!_running.IsCompleted)
            {
                _again = true;
                return;
            }

            _running = Task.Run(LoopAsync);
        }
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            try
            {
                await PassAsync(CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Re-verifying stored signatures after a key change failed; the next key change or check tries again");
            }

            lock (_gate)
            {
                if (!_again)
                {
                    return;
                }

                _again = false;
            }
        }
    }

    /// <summary>One pass over every stored signature, page by page; returns how many images' verdicts changed.</summary>
    public async Task<int> PassAsync(CancellationToken ct)
    {
        IReadOnlyList<NamedKey> keys;
        await using (var read = await contexts.CreateDbContextAsync(ct))
        {
            keys = await TrustedKeyStore.ReadAsync(read, ct);
        }

        var changed = 0;
        (string Digest, string Repository)? after = null;
        while (true)
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            var (lastDigest, lastRepository) = after ?? ("", "");
            var rows = await db.ImageSignatures
                .Where(s => string.Compare(s.Digest, lastDigest) > 0 || (s.Digest == lastDigest && string.Compare(s.Repository, lastRepository) > 0))
                .OrderBy(s => s.Digest).ThenBy(s => s.Repository).Take(Page).ToListAsync(ct);
            if (rows.Count == 0)
            {
                break;
            }

            foreach (var row in rows)
            {
                var before = row.VerifiedKeys;
                var image = Digest.Parse(row.Digest);
                var repository = ImageReference.Parse(row.Repository);
                row.Reverified([.. row.Signatures.Select(s => s.Payload.Length == 0 ? s : CosignSignature.Recheck(image, repository, s, keys, options.CurrentValue))]);
                changed += before.SequenceEqual(row.VerifiedKeys) ? 0 : 1;
            }

            await db.SaveChangesAsync(ct);
            after = (rows[^1].Digest, rows[^1].Repository);
        }

        facts.Forget();
        logger.LogInformation("Re-verified stored signatures with {Keys} trusted keys: {Changed} images changed", keys.Count, changed);
        return changed;
    }
}
