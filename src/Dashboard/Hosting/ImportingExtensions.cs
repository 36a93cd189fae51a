using Dashboard.Domain.Import;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Registry;
using Microsoft.AspNetCore.DataProtection;

namespace Dashboard.Hosting;

internal static class ImportingExtensions
{
    /// <summary>Registry settings (<c>Dashboard:Registries</c>) and the encryption of pull secrets.</summary>
    public static void AddImporting(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RegistryOptions>().BindConfiguration(RegistryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
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
