using Dashboard.Domain.Auditing;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Domain.Persistence.Configurations;

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.Property(a => a.UserName).HasMaxLength(256);
        builder.Property(a => a.Action).HasMaxLength(40);
        builder.Property(a => a.Kind).HasMaxLength(40);
        builder.Property(a => a.Namespace).HasMaxLength(NamespaceName.MaxLength);
        builder.Property(a => a.Target).HasMaxLength(500);
        builder.Property(a => a.Summary).HasMaxLength(AuditEntry.MaxSummaryLength);
        builder.HasIndex(a => a.At);
        builder.HasIndex(a => new { a.Namespace, a.At });
    }
}

internal sealed class PersonalAccessTokenConfiguration : IEntityTypeConfiguration<PersonalAccessToken>
{
    public void Configure(EntityTypeBuilder<PersonalAccessToken> builder)
    {
        builder.ToTable("AccessTokens");
        builder.Property(t => t.Name).HasMaxLength(PersonalAccessToken.MaxNameLength);
        builder.Property(t => t.Hash).HasMaxLength(64);
        builder.HasIndex(t => t.Hash).IsUnique();
        builder.HasIndex(t => new { t.UserId, t.Name }).IsUnique();
        builder.HasOne<DashboardUser>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
