using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography.X509Certificates;

namespace Dashboard.Hosting;

/// <summary>The <c>Dashboard</c> section of appsettings.json.</summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    /// <summary>Everything the app writes lives here; relative paths are taken from the content root.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    public BootstrapOptions Bootstrap { get; set; } = new();

    public AuditOptions Audit { get; set; } = new();

    public DatabaseOptions Database { get; set; } = new();

    public KeyEncryptionOptions DataProtection { get; set; } = new();

    public string ResolveDataDirectory(IHostEnvironment environment) =>
        Path.GetFullPath(Path.Combine(environment.ContentRootPath, DataDirectory));
}

/// <summary>
/// <c>Dashboard:DataProtection</c>: a certificate whose RSA key encrypts the Data Protection keys at rest (which in turn
/// protect cookies, pull secrets, webhook secrets and registry tokens). A PFX with <see cref="CertificatePassword"/>, or
/// a PEM certificate with its PEM <see cref="KeyFile"/>. Unset, the keys lie unencrypted beside the data they protect.
/// </summary>
public sealed class KeyEncryptionOptions
{
    public string? CertificateFile { get; set; }

    public string? CertificatePassword { get; set; }

    public string? KeyFile { get; set; }

    public X509Certificate2? LoadCertificate() =>
        string.IsNullOrWhiteSpace(CertificateFile) ? null
        : !string.IsNullOrWhiteSpace(KeyFile) ? X509Certificate2.CreateFromPemFile(CertificateFile, KeyFile)
        : X509CertificateLoader.LoadPkcs12FromFile(CertificateFile, CertificatePassword);
}

/// <summary>The first admin account, created on first start.</summary>
public sealed class BootstrapOptions
{
    public string AdminUser { get; set; } = "admin";

    /// <summary>When empty, a random password is generated and written once to the console log.</summary>
    public string? AdminPassword { get; set; }
}

/// <summary>Which database the app keeps its state in (docs/decisions/0009-several-instances-on-postgresql.md).</summary>
public sealed class DatabaseOptions
{
    /// <summary><c>Sqlite</c> (one instance, files under the data directory) or <c>PostgreSQL</c> (several instances, <c>ConnectionStrings:Dashboard</c>).</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;
}

public enum DatabaseProvider
{
    Sqlite,
    PostgreSQL,
}

public sealed class AuditOptions
{
    /// <summary>Audit entries older than this many days are deleted by the hourly maintenance job.</summary>
    [Range(1, 36500)]
    public int RetentionDays { get; set; } = 365;
}

internal static class DashboardOptionsExtensions
{
    public static void AddDashboardOptions(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DashboardOptions>().BindConfiguration(DashboardOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.Audit.RetentionDays is >= 1 and <= 36500, "Dashboard:Audit:RetentionDays must be between 1 and 36500.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Bootstrap.AdminUser), "Dashboard:Bootstrap:AdminUser must not be empty.")
            .ValidateOnStart();
    }

    public static DashboardOptions DashboardSettings(this WebApplicationBuilder builder) =>
        builder.Configuration.GetSection(DashboardOptions.Section).Get<DashboardOptions>() ?? new DashboardOptions();

    /// <summary>
    /// The PostgreSQL connection string of <paramref name="name"/> (<c>Hangfire</c> falls back to <c>Dashboard</c>), or a
    /// start-up failure that says which setting is missing.
    /// </summary>
    public static string PostgreSqlConnectionString(this WebApplicationBuilder builder, string name)
    {
        var value = builder.Configuration.GetConnectionString(name);
        if (string.IsNullOrWhiteSpace(value) && name != "Dashboard")
        {
            value = builder.Configuration.GetConnectionString("Dashboard");
        }

        return string.IsNullOrWhiteSpace(value)
            ? throw new StartUpFailure(
                "Dashboard:Database:Provider is PostgreSQL but ConnectionStrings:Dashboard is not set. Set it to a Npgsql connection " +
                "string, e.g. Host=db;Database=dashboard;Username=dashboard;Password=… (environment: ConnectionStrings__Dashboard).")
            : value;
    }
}
