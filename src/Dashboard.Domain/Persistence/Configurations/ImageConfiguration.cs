using Dashboard.Domain.Images;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Domain.Persistence.Configurations;

internal sealed class ImageConfiguration : IEntityTypeConfiguration<Image>
{
    public void Configure(EntityTypeBuilder<Image> builder)
    {
        builder.HasKey(i => i.Digest);
        builder.Property(i => i.Digest).HasMaxLength(Digest.MaxLength);
        builder.Property(i => i.DockerImageReference).HasMaxLength(ImageReference.MaxLength);
        builder.Property(i => i.MediaType).HasMaxLength(200);
        builder.Property(i => i.Layers).HasConversion<JsonConverter<IReadOnlyList<ImageLayer>>>(JsonConverter<IReadOnlyList<ImageLayer>>.Comparer);
        builder.Property(i => i.Manifests).HasConversion<JsonConverter<IReadOnlyList<ChildManifest>>>(JsonConverter<IReadOnlyList<ChildManifest>>.Comparer);
        builder.Property(i => i.Config).HasConversion<JsonConverter<ImageConfig>>(JsonConverter<ImageConfig>.Comparer);
        builder.Property(i => i.Annotations).HasConversion<JsonConverter<Dictionary<string, string>>>(JsonConverter<Dictionary<string, string>>.Comparer);
    }
}
