using System.ComponentModel.DataAnnotations;
using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dashboard.Domain.Scheduling;

/// <summary>Run-time overrides of the scheduler settings, one row; a null field keeps the file's (or environment's) value.</summary>
public sealed class ScheduleSettingsRow
{
    public int Id { get; set; } = 1;

    public int? DefaultIntervalSeconds { get; set; }

    public int? MinimumIntervalSeconds { get; set; }

    public int? MaxImportsPerMinute { get; set; }

    public bool? Disabled { get; set; }

    public int? TickSeconds { get; set; }
}

/// <summary>
/// The scheduler settings in force: <c>Dashboard:Import</c> from appsettings.json and the environment, overridden by what
/// an admin changed at run time (stored in the database, so it survives restarts and reaches every instance at its next
/// tick). Changes apply without a restart.
/// </summary>
public sealed class ScheduleSettings(IDbContextFactory<DashboardDbContext> contexts, IOptionsMonitor<ScheduleOptions> file, TimeProvider clock)
{
    private ScheduleSettingsRow _overrides = new();

    /// <summary>Raised after an admin changed the settings (the host re-registers the tick when its period changed).</summary>
    public event Action<ScheduleOptions>? Changed;

    public ScheduleOptions Current => Merge(file.CurrentValue, _overrides);

    /// <summary>Reads the stored overrides again (each tick does, so another instance's change arrives within a tick).</summary>
    public async Task RefreshAsync(CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        _overrides = await db.ScheduleSettings.AsNoTracking().FirstOrDefaultAsync(ct) ?? new ScheduleSettingsRow();
    }

    /// <summary>Validates the whole set (a bad value is refused naming it), stores it as the run-time overrides and applies it.</summary>
    public async Task<ScheduleOptions> UpdateAsync(Caller caller, ScheduleOptions wanted, CancellationToken ct = default)
    {
        caller.RequireAdmin("change the import settings");
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(wanted, new ValidationContext(wanted), results, validateAllProperties: true);
        var errors = results.SelectMany(r => r.MemberNames.Select(m => (Field: char.ToLowerInvariant(m[0]) + m[1..], r.ErrorMessage ?? "is not valid")))
            .GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Item2).ToArray());
        if (wanted.MaxImportsPerMinute == 0)
        {
            errors["maxImportsPerMinute"] = ["Use -1 for no limit, or at least 1."];
        }

        if (wanted.TickSeconds >= 60 && wanted.TickSeconds % 60 != 0)
        {
            errors["tickSeconds"] = ["Use a number of seconds under 60, or whole minutes."];
        }

        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = await db.ScheduleSettings.FirstOrDefaultAsync(ct);
        if (row is null)
        {
            row = new ScheduleSettingsRow();
            db.ScheduleSettings.Add(row);
        }

        var before = Describe(Current);
        (row.DefaultIntervalSeconds, row.MinimumIntervalSeconds, row.MaxImportsPerMinute, row.Disabled, row.TickSeconds) =
            (wanted.DefaultIntervalSeconds, wanted.MinimumIntervalSeconds, wanted.MaxImportsPerMinute, wanted.Disabled, wanted.TickSeconds);
        AuditTrail.Record(db, clock, caller, "changed", "Settings", null, "import", $"{before} → {Describe(wanted)}");
        await db.SaveUniqueAsync("", "Someone else changed the settings at the same time; reload.", ct);
        _overrides = row;
        Changed?.Invoke(Current);
        return Current;
    }

    private static ScheduleOptions Merge(ScheduleOptions file, ScheduleSettingsRow overrides) => new()
    {
        DefaultIntervalSeconds = overrides.DefaultIntervalSeconds ?? file.DefaultIntervalSeconds,
        MinimumIntervalSeconds = overrides.MinimumIntervalSeconds ?? file.MinimumIntervalSeconds,
        MaxImportsPerMinute = overrides.MaxImportsPerMinute ?? file.MaxImportsPerMinute,
        Disabled = overrides.Disabled ?? file.Disabled,
        TickSeconds = overrides.TickSeconds ?? file.TickSeconds,
    };

    private static string Describe(ScheduleOptions o) =>
        $"interval {o.DefaultIntervalSeconds}s (min {o.MinimumIntervalSeconds}s), {o.MaxImportsPerMinute}/min, tick {o.TickSeconds}s{(o.Disabled ? ", disabled" : "")}";
}
