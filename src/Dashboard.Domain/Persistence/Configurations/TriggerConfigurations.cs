using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Triggers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Domain.Persistence.Configurations;

internal sealed class ChangeEventConfiguration : IEntityTypeConfiguration<ChangeEvent>
{
    public void Configure(EntityTypeBuilder<ChangeEvent> builder)
    {
        builder.Property(e => e.Type).HasMaxLength(40);
        builder.Property(e => e.Namespace).HasMaxLength(NamespaceName.MaxLength);
        builder.Property(e => e.Stream).HasMaxLength(ImageStreamName.MaxLength);
        builder.Property(e => e.Tag).HasMaxLength(TagName.MaxLength);
        builder.Property(e => e.Image).HasMaxLength(Images.Digest.MaxLength);
        builder.Property(e => e.PreviousImage).HasMaxLength(Images.Digest.MaxLength);
        builder.Property(e => e.DockerImageReference).HasMaxLength(Images.ImageReference.MaxLength);
        builder.HasIndex(e => new { e.NamespaceId, e.OccurredAt });
    }
}

internal sealed class WebhookConfiguration : IEntityTypeConfiguration<Webhook>
{
    public void Configure(EntityTypeBuilder<Webhook> builder)
    {
        builder.Property(w => w.Name).HasMaxLength(NamespaceName.MaxLength);
        builder.Property(w => w.Url).HasMaxLength(Webhook.MaxUrlLength);
        builder.Property(w => w.ProtectedUrl).HasMaxLength(8000);
        builder.Property(w => w.Streams).HasMaxLength(Webhook.MaxFilterLength);
        builder.Property(w => w.Tags).HasMaxLength(Webhook.MaxFilterLength);
        builder.HasIndex(w => new { w.NamespaceId, w.Name }).IsUnique();
        builder.HasOne<Namespace>().WithMany().HasForeignKey(w => w.NamespaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.Property(d => d.Result).HasMaxLength(500);
        builder.HasIndex(d => new { d.WebhookId, d.At });
        builder.HasIndex(d => d.EventId);
        builder.HasOne<Webhook>().WithMany().HasForeignKey(d => d.WebhookId).OnDelete(DeleteBehavior.Cascade);
    }
}
