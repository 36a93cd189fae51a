using Dashboard.Admission;
using Dashboard.Api;
using Dashboard.Hosting;
using Dashboard.Jobs;
using Dashboard.Distribution;
using Dashboard.Security;

try
{
    await RunAsync(args);
    return 0;
}
catch (StartUpFailure e)
{
    // A setting to fix: one line that says which and how, not a stack trace.
    Console.Error.WriteLine($"The dashboard cannot start: {e.Message}");
    return 1;
}

static async Task RunAsync(string[] args)
{
    var builder = WebApplication.CreateBuilder(OperatorSettings.Options(args));

    builder.AddDashboardOptions();
    builder.AddPersistence();
    builder.AddImporting();
    builder.AddSignInAndRoles();
    builder.AddBackgroundJobs();
    builder.AddConsole();
    builder.AddRestApi();
    builder.AddMetrics();
    builder.AddTelemetry();
    builder.AddForwardedHeaders();
    builder.AddAdmission();
    builder.AddRegistryEndpoint();

    var app = builder.Build();

    await app.PrepareDatabaseAsync();

    app.UseForwardedHeadersFromKnownProxies();
    app.UseExtraPortsForTheirEndpointsOnly();
    app.UseSecurityHeaders();
    app.UseErrorHandling();
    app.UseRequestBodyLimits();
    app.UseAuthentication();
    app.UseAuthorization();
    app.UseAntiforgery();
    app.UseCrossSiteRequestChecks();

    app.MapHealth();
    app.MapMetrics();
    app.MapAdmission();
    app.MapRegistryEndpoint();
    app.MapAccountEndpoints();
    app.MapRestApi();
    app.MapHangfireDashboardForAdmins();
    app.MapConsole();
    app.ScheduleRecurringJobs();

    await app.RunAsync();
}

/// <summary>The host's entry point, named so tests can start it with <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
