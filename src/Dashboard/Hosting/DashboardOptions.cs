using System.ComponentModel.DataAnnotations;

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

    public string ResolveDataDirectory(IHostEnvironment environment) =>
        Path.GetFullPath(Path.Combine(environment.ContentRootPath, DataDirectory));
}

/// <summary>The first admin account, created on first start.</summary>
public sealed class BootstrapOptions
{
    public string AdminUser { get; set; } = "admin";

    /// <summary>When empty, a random password is generated and written once to the console log.</summary>
    public string? AdminPassword { get; set; }
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
}
