using Dashboard.Domain.Namespaces;
using Dashboard.Domain.PullSecrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Domain.Persistence.Configurations;

internal sealed class PullSecretConfiguration : IEntityTypeConfiguration<PullSecret>
{
    public void Configure(EntityTypeBuilder<PullSecret> builder)
    {
        builder.Property(s => s.Name).HasMaxLength(PullSecret.MaxNameLength);
        builder.HasIndex(s => new { s.NamespaceId, s.Name }).IsUnique();
        builder.HasOne<Namespace>().WithMany().HasForeignKey(s => s.NamespaceId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(s => s.Entries).HasConversion<JsonConverter<IReadOnlyList<PullSecretEntry>>>(JsonConverter<IReadOnlyList<PullSecretEntry>>.Comparer);
        builder.Property(s => s.LastResult).HasMaxLength(500);
    }
}
