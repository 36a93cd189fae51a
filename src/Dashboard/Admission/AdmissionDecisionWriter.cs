using Dashboard.Domain.Policy;

namespace Dashboard.Admission;

/// <summary>Writes the decisions the admission endpoint queued, in batches, for the app's lifetime.</summary>
internal sealed class AdmissionDecisionWriter(AdmissionDecisionLog decisions) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await decisions.WriteAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}
