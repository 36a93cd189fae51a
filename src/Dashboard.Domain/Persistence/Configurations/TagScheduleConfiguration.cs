using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Scheduling;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Domain.Persistence.Configurations;

internal sealed class ScheduleSettingsConfiguration : IEntityTypeConfiguration<ScheduleSettingsRow>
{
    public void Configure(EntityTypeBuilder<ScheduleSettingsRow> builder)
    {
        builder.ToTable("ScheduleSettings");
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.Property(s => s.RegistryOverrides).HasMaxLength(20_000);
    }
}

internal sealed class TagScheduleConfiguration : IEntityTypeConfiguration<TagSchedule>
{
    public void Configure(EntityTypeBuilder<TagSchedule> builder)
    {
        builder.Property(s => s.Tag).HasMaxLength(TagName.MaxLength);
        builder.HasIndex(s => new { s.ImageStreamId, s.Tag }).IsUnique();
        builder.HasIndex(s => s.NextCheckAt);
        builder.HasOne<ImageStream>().WithMany().HasForeignKey(s => s.ImageStreamId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(s => s.LastResult).HasMaxLength(40);
        builder.Property(s => s.LastMessage).HasMaxLength(TagSchedule.MaxMessageLength);
        builder.Property(s => s.LastJobId).HasMaxLength(64);
    }
}

internal sealed class CheckMinuteConfiguration : IEntityTypeConfiguration<CheckMinute>
{
    public void Configure(EntityTypeBuilder<CheckMinute> builder) => builder.HasKey(m => m.Minute);
}

internal sealed class RepositoryImportRunConfiguration : IEntityTypeConfiguration<Import.RepositoryImportRun>
{
    public void Configure(EntityTypeBuilder<Import.RepositoryImportRun> builder)
    {
        builder.HasIndex(r => new { r.NamespaceId, r.Stream, r.StartedAt });
        builder.HasOne<Namespaces.Namespace>().WithMany().HasForeignKey(r => r.NamespaceId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(r => r.Namespace).HasMaxLength(Namespaces.NamespaceName.MaxLength);
        builder.Property(r => r.Stream).HasMaxLength(ImageStreamName.MaxLength);
        builder.Property(r => r.From).HasMaxLength(Images.ImageReference.MaxLength);
        builder.Property(r => r.ImportMode).HasConversion<string>().HasMaxLength(20);
        builder.Property(r => r.State).HasConversion<string>().HasMaxLength(20);
        builder.Property(r => r.RequestedBy).HasMaxLength(450);
        builder.Property(r => r.InFlight).HasMaxLength(Import.RepositoryImportRun.MaxInFlightLength);
        builder.Property(r => r.Message).HasMaxLength(Import.RepositoryImportRun.MaxMessageLength);
    }
}
