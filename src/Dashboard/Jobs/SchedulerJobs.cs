using Dashboard.Domain.Scheduling;
using Hangfire;

namespace Dashboard.Jobs;

/// <summary>
/// The scheduler tick (one recurring job; see docs/decisions/0005-one-scheduler-tick.md): finds the due tags and
/// enqueues one check job per upstream on the <c>imports</c> queue.
/// </summary>
public sealed class SchedulerTickJob(ImportScheduler scheduler, IBackgroundJobClient jobs)
{
    public const string Id = "scheduler:tick";

    [DisableConcurrentExecution(timeoutInSeconds: 30)]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken ct)
    {
        foreach (var check in await scheduler.TickAsync(ct))
        {
            jobs.Enqueue<ScheduledImportJob>(ScheduledImportJob.Queue, job => job.RunAsync(check, CancellationToken.None));
        }
    }
}

/// <summary>Checks the tags that follow one upstream; a job that died is taken again by a later tick when its lease lapses.</summary>
public sealed class ScheduledImportJob(ImportScheduler scheduler)
{
    public const string Queue = "imports";

    // Retrying would check the same tags twice; the lease hands them to a later tick instead.
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(ScheduledCheck check, CancellationToken ct) => scheduler.RunAsync(check, ct);
}
