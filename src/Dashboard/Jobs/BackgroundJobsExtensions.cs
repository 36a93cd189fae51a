using Dashboard.Hosting;
using Dashboard.Security;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using Hangfire.Storage.SQLite;
using Dashboard.Domain.Scheduling;

namespace Dashboard.Jobs;

internal static class BackgroundJobsExtensions
{
    public const string DatabaseFile = "hangfire.db";

    /// <summary>
    /// Hangfire in the app, on its own SQLite file beside the dashboard database (see docs/decisions/0002-hangfire-storage.md).
    /// </summary>
    public static void AddBackgroundJobs(this WebApplicationBuilder builder)
    {
        var settings = builder.DashboardSettings();
        var postgreSql = settings.Database.Provider == DatabaseProvider.PostgreSQL ? builder.PostgreSqlConnectionString("Hangfire") : null;
        var databasePath = Path.Combine(settings.ResolveDataDirectory(builder.Environment), DatabaseFile);
        builder.Services.AddHangfire(configuration =>
        {
            configuration
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            // Enqueued work (imports, webhook deliveries) starts within a second instead of the default 15.
            if (postgreSql is not null)
            {
                // Several instances: one job storage, whose distributed locks keep the tick to one instance at a time.
                // A job fetched by an instance that died comes back after a minute (the fetch is renewed while a job
                // runs), and a lock it held is taken as stale after a minute (the tick holds its lock for well under a second).
                configuration.UsePostgreSqlStorage(options => options.UseNpgsqlConnection(postgreSql), new PostgreSqlStorageOptions
                {
                    QueuePollInterval = TimeSpan.FromSeconds(1),
                    PrepareSchemaIfNecessary = true,
                    UseSlidingInvisibilityTimeout = true,
                    InvisibilityTimeout = TimeSpan.FromMinutes(1),
                    DistributedLockTimeout = TimeSpan.FromMinutes(1),
                });
            }
            else
            {
                configuration.UseSQLiteStorage(databasePath, new SQLiteStorageOptions { QueuePollInterval = TimeSpan.FromSeconds(1) });
            }
        });
        var tickSeconds = builder.Configuration.GetValue($"{ScheduleOptions.Section}:{nameof(ScheduleOptions.TickSeconds)}", 60);
        builder.Services.AddHangfireServer(options =>
        {
            options.WorkerCount = Math.Max(4, Environment.ProcessorCount * 2);
            options.Queues = ["default", ScheduledImportJob.Queue];
            // The poller of recurring and delayed jobs looks at least as often as the tick is due, and every 5 s at most, so
            // a webhook delivery waiting out its coalescing window leaves within seconds of the window's end.
            options.SchedulePollingInterval = TimeSpan.FromSeconds(Math.Clamp(tickSeconds, 1, 5));
        });
        builder.Services.AddTransient<MaintenanceJob>();
        builder.Services.AddTransient<SchedulerTickJob>();
        builder.Services.AddTransient<ScheduledImportJob>();
        builder.Services.AddTransient<WebhookDeliveryJob>();
        builder.Services.AddTransient<RepositoryImportJob>();
        builder.Services.AddSingleton<Dashboard.Domain.Import.IRepositoryImportQueue, HangfireRepositoryImportQueue>();
        builder.Services.AddSingleton<Dashboard.Domain.Triggers.IChangeNotifier, HangfireChangeNotifier>();
        builder.Services.AddSingleton<IJobStatistics, HangfireJobStatistics>();
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

    public static void ScheduleRecurringJobs(this WebApplication app)
    {
        var recurring = app.Services.GetRequiredService<IRecurringJobManager>();
        recurring.AddOrUpdate<MaintenanceJob>(MaintenanceJob.Id, job => job.RunAsync(CancellationToken.None), Cron.Hourly());
        var settings = app.Services.GetRequiredService<ScheduleSettings>();
        settings.RefreshAsync().GetAwaiter().GetResult();
        RegisterTick(recurring, settings.Current.TickSeconds);
        // A run-time change of the tick period re-registers the job; other settings are read at every tick.
        settings.Changed += options => RegisterTick(recurring, options.TickSeconds);
    }

    /// <summary>Whole minutes as a five-field cron; under a minute with seconds (Hangfire reads six-field cron expressions).</summary>
    private static void RegisterTick(IRecurringJobManager recurring, int tickSeconds)
    {
        var cron = tickSeconds % 60 == 0 ? $"*/{tickSeconds / 60} * * * *" : $"*/{tickSeconds} * * * * *";
        recurring.AddOrUpdate<SchedulerTickJob>(SchedulerTickJob.Id, job => job.RunAsync(CancellationToken.None), cron);
    }

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
