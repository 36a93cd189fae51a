using Dashboard.Domain.Import;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Registry;
using Dashboard.Domain.Scheduling;
using Microsoft.AspNetCore.DataProtection;

namespace Dashboard.Hosting;

internal static class ImportingExtensions
{
    /// <summary>Registry settings (<c>Dashboard:Registries</c>) and the encryption of pull secrets.</summary>
    public static void AddImporting(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RegistryOptions>().BindConfiguration(RegistryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<Dashboard.Domain.Triggers.WebhookOptions>().BindConfiguration(Dashboard.Domain.Triggers.WebhookOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<Dashboard.Domain.Signatures.SignatureOptions>().BindConfiguration(Dashboard.Domain.Signatures.SignatureOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ScheduleOptions>().BindConfiguration(ScheduleOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.MaxImportsPerMinute is -1 or >= 1, "Dashboard:Import:MaxImportsPerMinute is -1 (unlimited) or at least 1.")
            .Validate(o => o.TickSeconds < 60 || o.TickSeconds % 60 == 0, "Dashboard:Import:TickSeconds is under 60 or a whole number of minutes.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ISecretProtector, DataProtectionSecretProtector>();
    }
}

/// <summary>Pull secrets are encrypted with the Data Protection keys under the data directory, with a purpose of their own.</summary>
internal sealed class DataProtectionSecretProtector(IDataProtectionProvider provider) : ISecretProtector
{
    private readonly IDataProtector _protector = provider.CreateProtector("Dashboard.PullSecrets.v1");

    public string Protect(string plaintext) => _protector.Protect(plaintext);

    public string Unprotect(string protectedText) => _protector.Unprotect(protectedText);
}
