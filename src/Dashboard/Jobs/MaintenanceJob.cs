using Dashboard.Admission;
using Dashboard.Domain.Maintenance;
using Dashboard.Hosting;
using Hangfire;
using Microsoft.Extensions.Options;

namespace Dashboard.Jobs;

/// <summary>Hourly: deletes expired access tokens, audit entries past <c>Dashboard:Audit:RetentionDays</c> and old admission decisions.</summary>
public sealed class MaintenanceJob(
    Pruner pruner, Domain.Policy.AdmissionDecisionLog decisions, IOptionsMonitor<Hosting.DashboardOptions> options,
    IOptionsMonitor<AdmissionOptions> admissionOptions, ILogger<MaintenanceJob> logger)
{
    public const string Id = "maintenance:prune";

    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    [AutomaticRetry(Attempts = 3)]
    public async Task RunAsync(CancellationToken ct)
    {
        var retention = TimeSpan.FromDays(options.CurrentValue.Audit.RetentionDays);
        var result = await pruner.PruneAsync(retention, ct);
        logger.LogInformation("Maintenance pruned {Tokens} expired access token(s) and {Audit} audit entr(ies) older than {Days} days",
            result.ExpiredTokens, result.AuditEntries, retention.TotalDays);
        var pruned = await decisions.PruneAsync(TimeSpan.FromDays(admissionOptions.CurrentValue.DecisionRetentionDays), ct);
        logger.LogInformation("Maintenance pruned {Decisions} admission decision(s)", pruned);
    }
}
