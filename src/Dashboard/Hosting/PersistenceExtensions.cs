using Dashboard.Domain;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Users;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Dashboard.Hosting;

internal static class PersistenceExtensions
{
    public const string DatabaseFile = "dashboard.db";

    public const string KeysDirectory = "keys";

    /// <summary>The EF Core database in <c>{DataDirectory}/dashboard.db</c>, created on first start.</summary>
    public static void AddPersistence(this WebApplicationBuilder builder)
    {
        var dataDirectory = builder.DashboardSettings().ResolveDataDirectory(builder.Environment);
        Directory.CreateDirectory(dataDirectory);
        var databasePath = Path.Combine(dataDirectory, DatabaseFile);
        builder.Services.AddDashboardDomain(options => options.UseDashboardSqlite(databasePath));

        // Cookie and antiforgery keys survive restarts; later the pull secrets are encrypted with them too.
        builder.Services.AddDataProtection()
            .SetApplicationName("image-stream-dashboard")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, KeysDirectory)));
    }

    /// <summary>Applies migrations and makes sure the first admin exists, before the app takes requests.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        await app.Services.MigrateDashboardDatabaseAsync();
        var bootstrap = app.Services.GetRequiredService<IOptions<DashboardOptions>>().Value.Bootstrap;
        string? generated;
        try
        {
            generated = await app.Services.GetRequiredService<UserAdministration>()
                .EnsureAdminAsync(bootstrap.AdminUser, bootstrap.AdminPassword);
        }
        catch (ValidationFailedException e)
        {
            throw new InvalidOperationException(
                $"Dashboard:Bootstrap:AdminPassword is not accepted for the first admin account: {e.Message} " +
                "Set a stronger one, or leave it empty to have one generated.", e);
        }
        if (generated is not null)
        {
            // Written once, on the start that creates the account: the operator's only way to the first sign-in.
            // Nothing else ever logs a password; change it on the Users page after signing in.
            Console.WriteLine($"""

                =====================================================================
                  Admin account '{bootstrap.AdminUser}' created with password:
                      {generated}
                  It is shown only this once. Sign in and change it on the Users page,
                  or set Dashboard:Bootstrap:AdminPassword before the first start.
                =====================================================================

                """);
        }
    }
}
