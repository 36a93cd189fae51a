using Dashboard.Domain.Scheduling;
using Dashboard.Domain.Triggers;
using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.Options;

namespace Dashboard.Jobs;

/// <summary>
/// The scheduler tick (one recurring job; see docs/decisions/0005-one-scheduler-tick.md): finds the due tags and
/// enqueues one check job per upstream on the <c>imports</c> queue.
/// </summary>
public sealed class SchedulerTickJob(
    ImportScheduler scheduler, WebhookService webhooks, IChangeNotifier notifier, IOptionsMonitor<WebhookOptions> webhookOptions,
    IBackgroundJobClient jobs)
{
    public const string Id = "scheduler:tick";

    [DisableConcurrentExecution(timeoutInSeconds: 30)]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken ct)
    {
        foreach (var check in await scheduler.TickAsync(ct))
        {
            // The queue comes from the method's [Queue] attribute: the SQLite storage ignores a queue given here.
            jobs.Enqueue<ScheduledImportJob>(job => job.RunAsync(check, null, CancellationToken.None));
        }

        // A process that died between saving an import and queueing its delivery left an event nobody was told of.
        var lost = TimeSpan.FromSeconds(webhookOptions.CurrentValue.CoalesceSeconds + webhookOptions.CurrentValue.LostAfterSeconds);
        foreach (var eventId in await webhooks.UnattemptedAsync(lost, ct))
        {
            notifier.Saved(eventId, TimeSpan.Zero);
        }
    }
}

/// <summary>Checks the tags that follow one upstream; a job that died is taken again by a later tick when its lease lapses.</summary>
public sealed class ScheduledImportJob(ImportScheduler scheduler)
{
    public const string Queue = "imports";

    // Retrying would check the same tags twice; the lease hands them to a later tick instead.
    [AutomaticRetry(Attempts = 0)]
    [Queue(Queue)]
    public Task RunAsync(ScheduledCheck check, PerformContext? context, CancellationToken ct) => scheduler.RunAsync(check, ct, context?.BackgroundJob.Id);
}

/// <summary>Hangfire's queue, servers and workers for the monitoring page and /metrics.</summary>
internal sealed class HangfireJobStatistics(JobStorage storage) : IJobStatistics
{
    public JobCounts Read()
    {
        var monitoring = storage.GetMonitoringApi();
        var servers = monitoring.Servers();
        return new JobCounts(monitoring.GetStatistics().Enqueued, servers.Count, servers.Sum(s => s.WorkersCount));
    }
}
