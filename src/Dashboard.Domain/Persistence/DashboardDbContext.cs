using Dashboard.Domain.Auditing;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.PullSecrets;
using Dashboard.Domain.Users;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Persistence;

/// <summary>
/// The dashboard's database: Identity, namespaces, image streams, images and the audit trail.
/// Add a migration from the repository root with
/// <c>dotnet ef migrations add NAME --project src/Dashboard.Domain --startup-project src/Dashboard --output-dir Persistence/Migrations</c>
/// and the same for PostgreSQL (README, "Add a migration").
/// </summary>
public sealed class DashboardDbContext(DbContextOptions<DashboardDbContext> options)
    : IdentityDbContext<DashboardUser, IdentityRole, string>(options), IDataProtectionKeyContext
{
    /// <summary>The Data Protection key ring when instances share it (PostgreSQL); one SQLite instance keeps its keys in files.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<Namespace> Namespaces => Set<Namespace>();

    public DbSet<NamespaceMembership> Memberships => Set<NamespaceMembership>();

    public DbSet<ImageStream> ImageStreams => Set<ImageStream>();

    public DbSet<TagReference> SpecTags => Set<TagReference>();

    public DbSet<TagEvent> TagEvents => Set<TagEvent>();

    public DbSet<TagCondition> TagConditions => Set<TagCondition>();

    public DbSet<Image> Images => Set<Image>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<PersonalAccessToken> AccessTokens => Set<PersonalAccessToken>();

    public DbSet<PullSecret> PullSecrets => Set<PullSecret>();

    public DbSet<Scheduling.TagSchedule> TagSchedules => Set<Scheduling.TagSchedule>();

    public DbSet<Scheduling.ScheduleSettingsRow> ScheduleSettings => Set<Scheduling.ScheduleSettingsRow>();

    public DbSet<Scheduling.CheckMinute> CheckMinutes => Set<Scheduling.CheckMinute>();

    public DbSet<Import.RepositoryImportRun> RepositoryImportRuns => Set<Import.RepositoryImportRun>();

    public DbSet<Policy.PolicySet> PolicySets => Set<Policy.PolicySet>();

    public DbSet<Registry.Mirrors.MirrorSettingsRow> MirrorSettings => Set<Registry.Mirrors.MirrorSettingsRow>();

    public DbSet<Policy.AdmissionRecord> AdmissionRecords => Set<Policy.AdmissionRecord>();

    public DbSet<Policy.AdmissionRuleHit> AdmissionRuleHits => Set<Policy.AdmissionRuleHit>();

    public DbSet<Triggers.ChangeEvent> ChangeEvents => Set<Triggers.ChangeEvent>();

    public DbSet<Triggers.Webhook> Webhooks => Set<Triggers.Webhook>();

    public DbSet<Triggers.WebhookDelivery> WebhookDeliveries => Set<Triggers.WebhookDelivery>();

    public DbSet<Signatures.TrustedKey> TrustedKeys => Set<Signatures.TrustedKey>();

    public DbSet<Signatures.ImageSignatures> ImageSignatures => Set<Signatures.ImageSignatures>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(DashboardDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every time is UTC; reading it back as Unspecified would shift it on display.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<NullableUtcDateTimeConverter>();
    }
}
