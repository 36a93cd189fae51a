using Dashboard.Domain.Triggers;
using Hangfire;

namespace Dashboard.Jobs;

/// <summary>Delivers one change event to its namespace's webhooks; failed receivers are retried with Hangfire's back-off.</summary>
public sealed class WebhookDeliveryJob(WebhookService webhooks)
{
    [AutomaticRetry(Attempts = 5)]
    public async Task RunAsync(long eventId, CancellationToken ct)
    {
        if (!await webhooks.DeliverAsync(eventId, ct))
        {
            // Throwing makes Hangfire retry later; receivers that already have the event are not sent it again.
            throw new InvalidOperationException($"Event {eventId} was not delivered to every webhook; see its deliveries.");
        }
    }
}

/// <summary>Queues the delivery of events an import saved.</summary>
internal sealed class HangfireChangeNotifier(IBackgroundJobClient jobs) : IChangeNotifier
{
    public void Saved(long eventId, TimeSpan delay)
    {
        if (delay > TimeSpan.Zero)
        {
            jobs.Schedule<WebhookDeliveryJob>(job => job.RunAsync(eventId, CancellationToken.None), delay);
        }
        else
        {
            jobs.Enqueue<WebhookDeliveryJob>(job => job.RunAsync(eventId, CancellationToken.None));
        }
    }
}
