using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Domain.Persistence.Configurations;

internal sealed class PolicySetConfiguration : IEntityTypeConfiguration<PolicySet>
{
    public void Configure(EntityTypeBuilder<PolicySet> builder)
    {
        builder.Property(p => p.Id).ValueGeneratedNever();
        // The version is the concurrency token: two admins saving at once cannot both win silently.
        builder.Property(p => p.Version).IsConcurrencyToken();
        builder.Property(p => p.UpdatedBy).HasMaxLength(256);
    }
}

internal sealed class AdmissionRecordConfiguration : IEntityTypeConfiguration<AdmissionRecord>
{
    public void Configure(EntityTypeBuilder<AdmissionRecord> builder)
    {
        builder.Property(r => r.Namespace).HasMaxLength(NamespaceName.MaxLength);
        builder.Property(r => r.Operation).HasMaxLength(16);
        builder.Property(r => r.Kind).HasMaxLength(63);
        builder.Property(r => r.Name).HasMaxLength(253);
        builder.Property(r => r.Resource).HasMaxLength(16);
        builder.Property(r => r.Images).HasMaxLength(AdmissionRecord.MaxTextLength);
        builder.Property(r => r.Violations).HasMaxLength(AdmissionRecord.MaxTextLength);
        builder.Property(r => r.Warnings).HasMaxLength(AdmissionRecord.MaxTextLength);
        builder.Property(r => r.Rules).HasMaxLength(AdmissionRecord.MaxTextLength);
        builder.HasIndex(r => r.At);
        builder.HasIndex(r => new { r.Namespace, r.At });
        builder.HasMany(r => r.Hits).WithOne().HasForeignKey(h => h.AdmissionRecordId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AdmissionRuleHitConfiguration : IEntityTypeConfiguration<AdmissionRuleHit>
{
    public void Configure(EntityTypeBuilder<AdmissionRuleHit> builder)
    {
        builder.Property(h => h.Rule).HasMaxLength(PolicyRule.MaxNameLength);
        builder.Property(h => h.Effect).HasConversion<string>().HasMaxLength(16);
        builder.Property(h => h.Namespace).HasMaxLength(NamespaceName.MaxLength);
        // The summary reads a window of time and groups it by rule.
        builder.HasIndex(h => new { h.At, h.Rule });
    }
}
