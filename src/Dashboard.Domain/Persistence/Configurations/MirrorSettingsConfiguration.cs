using Dashboard.Domain.Registry.Mirrors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Domain.Persistence.Configurations;

internal sealed class MirrorSettingsConfiguration : IEntityTypeConfiguration<MirrorSettingsRow>
{
    public void Configure(EntityTypeBuilder<MirrorSettingsRow> builder)
    {
        builder.ToTable("MirrorSettings");
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.Document).HasMaxLength(MirrorStore.MaxDocumentLength);
        // Two admins saving at once cannot both win silently.
        builder.Property(r => r.Version).IsConcurrencyToken();
        builder.Property(r => r.UpdatedBy).HasMaxLength(256);
    }
}
