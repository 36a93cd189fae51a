using Dashboard.Domain.Images;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Signatures;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Domain.Persistence.Configurations;

internal sealed class TrustedKeyConfiguration : IEntityTypeConfiguration<TrustedKey>
{
    public void Configure(EntityTypeBuilder<TrustedKey> builder)
    {
        builder.HasKey(k => k.Name);
        builder.Property(k => k.Name).HasMaxLength(NamespaceName.MaxLength);
        builder.Property(k => k.PublicKeyPem).HasMaxLength(PublicKey.MaxPemLength);
        builder.Property(k => k.Description).HasMaxLength(TrustedKey.MaxDescriptionLength);
        builder.Property(k => k.Algorithm).HasMaxLength(32);
        builder.Property(k => k.Fingerprint).HasMaxLength(Digest.MaxLength);
        builder.Property(k => k.UpdatedBy).HasMaxLength(256);
    }
}

internal sealed class ImageSignaturesConfiguration : IEntityTypeConfiguration<ImageSignatures>
{
    public void Configure(EntityTypeBuilder<ImageSignatures> builder)
    {
        // One look per image and repository it was imported from: a look made for one namespace's source never
        // stands in for another's (docs/security.md, "What crosses namespaces").
        builder.HasKey(s => new { s.Digest, s.Repository });
        builder.Property(s => s.Digest).HasMaxLength(Digest.MaxLength);
        builder.Property(s => s.Repository).HasMaxLength(ImageReference.MaxLength);
        builder.Property(s => s.Signatures).HasConversion<JsonConverter<IReadOnlyList<StoredSignature>>>(JsonConverter<IReadOnlyList<StoredSignature>>.Comparer);
        builder.Property(s => s.VerifiedKeys).HasConversion<JsonConverter<IReadOnlyList<string>>>(JsonConverter<IReadOnlyList<string>>.Comparer)
            .HasMaxLength(CosignSignature.MaxSignatures * (NamespaceName.MaxLength + 3) + 2);
    }
}
