using Dashboard.Domain.Import;
using Hangfire;

namespace Dashboard.Jobs;

/// <summary>
/// Runs one repository import in the background. A job that dies with its process is fetched again by Hangfire and
/// imports again: tags already imported cost a HEAD each.
/// </summary>
public sealed class RepositoryImportJob(RepositoryImportRuns runs)
{
    [AutomaticRetry(Attempts = 2)]
    public Task RunAsync(long runId, CancellationToken ct) => runs.RunAsync(runId, ct);
}

/// <summary>Queues repository imports on Hangfire's default queue.</summary>
internal sealed class HangfireRepositoryImportQueue(IBackgroundJobClient jobs) : IRepositoryImportQueue
{
    public void Enqueue(long runId) => jobs.Enqueue<RepositoryImportJob>(job => job.RunAsync(runId, CancellationToken.None));
}
