using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Domain.Persistence.Configurations;

internal sealed class NamespaceConfiguration : IEntityTypeConfiguration<Namespace>
{
    public void Configure(EntityTypeBuilder<Namespace> builder)
    {
        builder.Property(n => n.Name).HasMaxLength(NamespaceName.MaxLength);
        builder.HasIndex(n => n.Name).IsUnique();
    }
}

internal sealed class NamespaceMembershipConfiguration : IEntityTypeConfiguration<NamespaceMembership>
{
    public void Configure(EntityTypeBuilder<NamespaceMembership> builder)
    {
        builder.ToTable("Memberships");
        builder.HasKey(m => new { m.NamespaceId, m.UserId });
        builder.HasIndex(m => m.UserId);
        builder.Property(m => m.Role).HasConversion<string>().HasMaxLength(20);
        builder.HasOne(m => m.Namespace).WithMany().HasForeignKey(m => m.NamespaceId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<DashboardUser>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
