using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Domain.Persistence.Configurations;

internal sealed class ImageStreamConfiguration : IEntityTypeConfiguration<ImageStream>
{
    public void Configure(EntityTypeBuilder<ImageStream> builder)
    {
        builder.Property(s => s.Name).HasMaxLength(ImageStreamName.MaxLength);
        builder.HasIndex(s => new { s.NamespaceId, s.Name }).IsUnique();
        builder.HasIndex(s => s.Name);
        builder.HasOne(s => s.Namespace).WithMany().HasForeignKey(s => s.NamespaceId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(s => s.Labels).HasConversion<JsonConverter<Dictionary<string, string>>>(JsonConverter<Dictionary<string, string>>.Comparer);
        builder.Property(s => s.Annotations).HasConversion<JsonConverter<Dictionary<string, string>>>(JsonConverter<Dictionary<string, string>>.Comparer);
        builder.Property(s => s.Generation).IsConcurrencyToken();
        builder.HasMany(s => s.SpecTags).WithOne().HasForeignKey(t => t.ImageStreamId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(s => s.History).WithOne().HasForeignKey(e => e.ImageStreamId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(s => s.Conditions).WithOne().HasForeignKey(c => c.ImageStreamId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TagReferenceConfiguration : IEntityTypeConfiguration<TagReference>
{
    public void Configure(EntityTypeBuilder<TagReference> builder)
    {
        builder.ToTable("SpecTags");
        builder.Property(t => t.Name).HasMaxLength(TagName.MaxLength);
        builder.HasIndex(t => new { t.ImageStreamId, t.Name }).IsUnique();
        builder.Property(t => t.FromKind).HasConversion<string>().HasMaxLength(20);
        builder.Property(t => t.FromName).HasMaxLength(Images.ImageReference.MaxLength);
        builder.Property(t => t.FromNamespace).HasMaxLength(NamespaceName.MaxLength);
        builder.Property(t => t.ImportMode).HasConversion<string>().HasMaxLength(20);
        builder.Property(t => t.ReferencePolicy).HasConversion<string>().HasMaxLength(20);
        builder.Property(t => t.SetBy).HasMaxLength(450);
        builder.Ignore(t => t.From);
        builder.Property(t => t.Annotations).HasConversion<JsonConverter<Dictionary<string, string>>>(JsonConverter<Dictionary<string, string>>.Comparer);
    }
}

internal sealed class TagEventConfiguration : IEntityTypeConfiguration<TagEvent>
{
    public void Configure(EntityTypeBuilder<TagEvent> builder)
    {
        builder.Property(e => e.Tag).HasMaxLength(TagName.MaxLength);
        builder.Property(e => e.DockerImageReference).HasMaxLength(Images.ImageReference.MaxLength);
        builder.Property(e => e.Image).HasMaxLength(Images.Digest.MaxLength);
        builder.HasIndex(e => new { e.ImageStreamId, e.Tag, e.Created });
        builder.HasIndex(e => e.Image);
    }
}

internal sealed class TagConditionConfiguration : IEntityTypeConfiguration<TagCondition>
{
    public void Configure(EntityTypeBuilder<TagCondition> builder)
    {
        builder.Property(c => c.Tag).HasMaxLength(TagName.MaxLength);
        builder.Property(c => c.Type).HasMaxLength(40);
        builder.Property(c => c.Status).HasMaxLength(10);
        builder.Property(c => c.Reason).HasMaxLength(100);
        builder.Property(c => c.Message).HasMaxLength(2000);
        builder.HasIndex(c => new { c.ImageStreamId, c.Tag, c.Type }).IsUnique();
    }
}
