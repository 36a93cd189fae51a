using Dashboard.Domain;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Users;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Dashboard.Hosting;

internal static class PersistenceExtensions
{
    public const string DatabaseFile = "dashboard.db";

    public const string KeysDirectory = "keys";

    /// <summary>
    /// The EF Core database: <c>{DataDirectory}/dashboard.db</c> by default, or the PostgreSQL database of
    /// <c>ConnectionStrings:Dashboard</c> shared by several instances; created or migrated on start.
    /// </summary>
    public static void AddPersistence(this WebApplicationBuilder builder)
    {
        var settings = builder.DashboardSettings();
        var dataDirectory = settings.ResolveDataDirectory(builder.Environment);
        Directory.CreateDirectory(dataDirectory);

        // The Data Protection keys encrypt cookies, antiforgery tokens, pull secrets, webhook secrets and registry
        // tokens, so they survive restarts; instances sharing a database share the key ring through it too, or a
        // secret written by one could not be read by another and sign-ins would not cross instances.
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("image-stream-dashboard");
        if (settings.Database.Provider == DatabaseProvider.PostgreSQL)
        {
            var connectionString = builder.PostgreSqlConnectionString("Dashboard");
            // Before the domain, which falls back to "no other instance to tell".
            builder.Services.AddSingleton(provider => new PostgreSqlSignals(connectionString, provider.GetRequiredService<ILogger<PostgreSqlSignals>>()));
            builder.Services.AddSingleton<IInstanceSignals>(provider => provider.GetRequiredService<PostgreSqlSignals>());
            builder.Services.AddHostedService(provider => provider.GetRequiredService<PostgreSqlSignals>());
            builder.Services.AddDashboardDomain(options => options.UseDashboardPostgreSql(connectionString));
            dataProtection.PersistKeysToDbContext<DashboardDbContext>();
        }
        else
        {
            var databasePath = Path.Combine(dataDirectory, DatabaseFile);
            builder.Services.AddDashboardDomain(options => options.UseDashboardSqlite(databasePath));
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, KeysDirectory)));
        }

        if (KeyCertificate(settings) is { } certificate)
        {
            // Encrypts each key as it is written, and reads them back with the same certificate (no machine store needed).
            dataProtection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        }
    }

    /// <summary>The certificate that encrypts the Data Protection keys, or null; a file that cannot be read stops the start naming the key.</summary>
    private static X509Certificate2? KeyCertificate(DashboardOptions settings)
    {
        try
        {
            var certificate = settings.DataProtection.LoadCertificate();
            if (certificate is not null && certificate.GetRSAPublicKey() is null)
            {
                throw new InvalidOperationException("the certificate has no RSA key (XML encryption of the keys needs one)");
            }

            return certificate;
        }
        catch (Exception e) when (e is IOException or CryptographicException or InvalidOperationException)
        {
            throw new StartUpFailure(
                $"Dashboard:DataProtection:CertificateFile cannot be used to encrypt the Data Protection keys: {e.Message}", e);
        }
    }

    /// <summary>
    /// Applies migrations and makes sure the first admin exists, before the app takes requests. On PostgreSQL the
    /// databases are reached first (and created when missing and the role may), so a wrong setting stops the start with
    /// one line that says what to fix.
    /// </summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<DashboardOptions>>().Value.Database.Provider == DatabaseProvider.PostgreSQL)
        {
            var databases = new[] { "Dashboard", "Hangfire" }.Select(name => app.Configuration.GetConnectionString(name)).OfType<string>()
                .Where(value => !string.IsNullOrWhiteSpace(value)).Distinct(StringComparer.Ordinal);
            foreach (var connectionString in databases)
            {
                await PostgreSqlStartUp.EnsureDatabaseAsync(connectionString, app.Logger);
            }
        }

        // Instances starting together take turns: the first migrates and creates the admin, the others find it done.
        await using var exclusive = await app.Services.StartUpExclusivelyAsync();
        if (string.IsNullOrWhiteSpace(app.Services.GetRequiredService<IOptions<DashboardOptions>>().Value.DataProtection.CertificateFile))
        {
            app.Logger.LogWarning("The Data Protection keys (which protect sign-ins, pull secrets, webhook secrets and registry tokens) are stored "
                + "unencrypted beside the data they protect; set Dashboard:DataProtection:CertificateFile to encrypt them at rest (README, Configuration)");
        }

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
            throw new StartUpFailure(
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
