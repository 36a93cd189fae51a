using Dashboard.Api;
using Dashboard.Hosting;
using Dashboard.Jobs;
using Dashboard.Registry;
using Dashboard.Security;

var builder = WebApplication.CreateBuilder(OperatorSettings.Options(args));

builder.AddDashboardOptions();
builder.AddPersistence();
builder.AddImporting();
builder.AddSignInAndRoles();
builder.AddBackgroundJobs();
builder.AddConsole();
builder.AddRestApi();
builder.AddMetrics();
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

app.Run();

/// <summary>The host's entry point, named so tests can start it with <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
