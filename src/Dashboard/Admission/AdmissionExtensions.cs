using Dashboard.Domain.Policy;
using Dashboard.Hosting;
using Microsoft.Extensions.Options;

namespace Dashboard.Admission;

internal static class AdmissionExtensions
{
    /// <summary>The admission settings (checked at start), the decision queue and its writer, the webhooks, and their own port.</summary>
    public static void AddAdmission(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdmissionOptions>().BindConfiguration(AdmissionOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Port == 0 || (File.Exists(o.CertificateFile) && File.Exists(o.KeyFile)),
                $"{AdmissionOptions.Section}:Port needs CertificateFile and KeyFile: PEM files that exist.")
            .Validate(o => NetworkAllowList.AreValid(o.Networks),
                $"{AdmissionOptions.Section}:AllowedNetworks holds a value that is not a CIDR network (e.g. 10.0.0.0/8).")
            .ValidateOnStart();
        builder.Services.AddSingleton(provider => new AdmissionDecisionQueue(provider.GetRequiredService<IOptions<AdmissionOptions>>().Value.DecisionQueueCapacity));
        builder.Services.AddHostedService<AdmissionDecisionWriter>();
        builder.Services.AddSingleton<AdmissionWebhook>();
        var settings = builder.Configuration.GetSection(AdmissionOptions.Section).Get<AdmissionOptions>() ?? new AdmissionOptions();
        if (settings.Port > 0 && ExtraPorts.Certificate(settings.CertificateFile, settings.KeyFile) is { } certificate)
        {
            builder.ListenAlsoOn(settings.Port, certificate);
        }
    }
}
