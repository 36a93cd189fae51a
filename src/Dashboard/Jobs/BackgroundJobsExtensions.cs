using Dashboard.Hosting;
using Dashboard.Security;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.Storage.SQLite;

namespace Dashboard.Jobs;

internal static class BackgroundJobsExtensions
{
    public const string DatabaseFile = "hangfire.db";

    /// <summary>
    /// Hangfire in the app, on its own SQLite file beside the dashboard database (see docs/decisions/0002-hangfire-storage.md).
    /// </summary>
    public static void AddBackgroundJobs(this WebApplicationBuilder builder)
    {
        var databasePath = Path.Combine(builder.DashboardSettings().ResolveDataDirectory(builder.Environment), DatabaseFile);
        builder.Services.AddHangfire(configuration => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseSQLiteStorage(databasePath, new SQLiteStorageOptions()));
        builder.Services.AddHangfireServer(options => options.WorkerCount = Math.Max(2, Environment.ProcessorCount));
        builder.Services.AddTransient<MaintenanceJob>();
    }

    /// <summary>The Hangfire dashboard at /hangfire: admins only, checked by the endpoint's policy and again by Hangfire's own filter.</summary>
    public static void MapHangfireDashboardForAdmins(this WebApplication app) =>
        app.MapHangfireDashboard("/hangfire", new Hangfire.DashboardOptions
        {
            Authorization = [new AdminOnlyFilter()],
            AsyncAuthorization = [],
            AppPath = "/",
            DashboardTitle = "Image stream dashboard jobs",
            DisplayStorageConnectionString = false,
        }).RequireAuthorization(SignInAndRolesExtensions.AdminPolicy);

    public static void ScheduleMaintenance(this WebApplication app) =>
        app.Services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<MaintenanceJob>(MaintenanceJob.Id, job => job.RunAsync(CancellationToken.None), Cron.Hourly());

    /// <summary>Refuses anyone not in the Admin role: 401 when not signed in, 403 otherwise (Hangfire picks the code).</summary>
    internal sealed class AdminOnlyFilter : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context)
        {
            var user = context.GetHttpContext().User;
            return user.Identity?.IsAuthenticated == true && user.IsInRole(Domain.Users.DashboardUser.AdminRole);
        }
    }
}
