using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Dashboard.Domain.Images;
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

    public int? RegistryConcurrency { get; set; }

    public double? RegistryRequestsPerSecond { get; set; }

    /// <summary>The per-host overrides as a JSON array; null keeps the file's.</summary>
    public string? RegistryOverrides { get; set; }

    /// <summary>The scheduler's token bucket (<c>MaxImportsPerMinute</c>) as the last tick left it, shared by every instance.</summary>
    public double? BudgetTokens { get; set; }

    public DateTime? BudgetRefilledAt { get; set; }
}

/// <summary>
/// The scheduler settings in force: <c>Dashboard:Import</c> from appsettings.json and the environment, overridden by what
/// an admin changed at run time (stored in the database, so it survives restarts and reaches every instance at its next
/// tick). Changes apply without a restart.
/// </summary>
public sealed class ScheduleSettings
{
    private readonly IDbContextFactory<DashboardDbContext> _contexts;
    private readonly IOptionsMonitor<ScheduleOptions> _file;
    private readonly TimeProvider _clock;
    private readonly IInstanceSignals _signals;

    public ScheduleSettings(IDbContextFactory<DashboardDbContext> contexts, IOptionsMonitor<ScheduleOptions> file, TimeProvider clock, IInstanceSignals signals)
    {
        _contexts = contexts;
        _file = file;
        _clock = clock;
        _signals = signals;
        // An admin's change on another instance: read the stored overrides again, so this instance's registry bounds follow.
        signals.Subscribe(InstanceTopics.ImportSettings, () => RefreshAsync());
    }

    private ScheduleSettingsRow _overrides = new();

    /// <summary>Raised after an admin changed the settings (the host re-registers the tick when its period changed).</summary>
    public event Action<ScheduleOptions>? Changed;

    public ScheduleOptions Current
    {
        get
        {
            // Asked on every registry request: merged once per change of the file or the stored overrides.
            // Treat the result as read-only; Edit() gives a copy to change.
            var snapshot = _merged;
            var (fromFile, overrides) = (_file.CurrentValue, _overrides);
            if (snapshot is null || !ReferenceEquals(snapshot.File, fromFile) || !ReferenceEquals(snapshot.Overrides, overrides))
            {
                snapshot = new Snapshot(fromFile, overrides, Merge(fromFile, overrides));
                _merged = snapshot;
            }

            return snapshot.Merged;
        }
    }

    private volatile Snapshot? _merged;

    /// <summary>A copy of the settings in force, to edit in a form and pass to <see cref="UpdateAsync"/>.</summary>
    public ScheduleOptions Edit() => Merge(Current, new ScheduleSettingsRow());

    /// <summary>The per-registry bounds in force for <paramref name="registry"/> (the registry client asks on every request).</summary>
    public Registry.RegistryBounds BoundsFor(string registry) => Current.BoundsFor(registry);

    /// <summary>Reads the stored overrides again (each tick does, so another instance's change arrives within a tick).</summary>
    public async Task RefreshAsync(CancellationToken ct = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(ct);
        _overrides = await db.ScheduleSettings.AsNoTracking().OrderBy(r => r.Id).FirstOrDefaultAsync(ct) ?? new ScheduleSettingsRow();
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

        for (var i = 0; i < wanted.RegistryOverrides.Count; i++)
        {
            var o = wanted.RegistryOverrides[i];
            if (!ImageReference.TryParse($"{o.Host?.Trim()}/x", out var parsed, out _) || !parsed.Registry.Equals(o.Host?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                errors[$"registryOverrides[{i}].host"] = [$"'{o.Host}' is not a registry host (host or host:port, as in image references)."];
            }

            if (o.Concurrency is < 1 or > 256)
            {
                errors[$"registryOverrides[{i}].concurrency"] = ["Use 1 to 256 requests in flight."];
            }

            if (o.RequestsPerSecond is < 0 or > 10_000)
            {
                errors[$"registryOverrides[{i}].requestsPerSecond"] = ["Use 0 (no bound) to 10000 requests per second."];
            }
        }

        if (wanted.RegistryOverrides.GroupBy(o => o.Host?.Trim(), StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            errors["registryOverrides"] = [$"'{twice.Key}' has more than one override."];
        }

        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }

        foreach (var o in wanted.RegistryOverrides)
        {
            o.Host = o.Host.Trim().ToLowerInvariant();
        }

        await using var db = await _contexts.CreateDbContextAsync(ct);
        var row = await db.ScheduleSettings.OrderBy(r => r.Id).FirstOrDefaultAsync(ct);
        if (row is null)
        {
            row = new ScheduleSettingsRow();
            db.ScheduleSettings.Add(row);
        }

        var before = Describe(Current);
        (row.DefaultIntervalSeconds, row.MinimumIntervalSeconds, row.MaxImportsPerMinute, row.Disabled, row.TickSeconds) =
            (wanted.DefaultIntervalSeconds, wanted.MinimumIntervalSeconds, wanted.MaxImportsPerMinute, wanted.Disabled, wanted.TickSeconds);
        (row.RegistryConcurrency, row.RegistryRequestsPerSecond, row.RegistryOverrides) =
            (wanted.RegistryConcurrency, wanted.RegistryRequestsPerSecond, JsonSerializer.Serialize(wanted.RegistryOverrides));
        AuditTrail.Record(db, _clock, caller, "changed", "Settings", null, "import", $"{before} → {Describe(wanted)}");
        await db.SaveUniqueAsync("", "Someone else changed the settings at the same time; reload.", ct);
        _overrides = row;
        Changed?.Invoke(Current);
        await _signals.PublishAsync(InstanceTopics.ImportSettings);
        return Edit();
    }

    private sealed record Snapshot(ScheduleOptions File, ScheduleSettingsRow Overrides, ScheduleOptions Merged);

    private static ScheduleOptions Merge(ScheduleOptions file, ScheduleSettingsRow overrides) => new()
    {
        DefaultIntervalSeconds = overrides.DefaultIntervalSeconds ?? file.DefaultIntervalSeconds,
        MinimumIntervalSeconds = overrides.MinimumIntervalSeconds ?? file.MinimumIntervalSeconds,
        MaxImportsPerMinute = overrides.MaxImportsPerMinute ?? file.MaxImportsPerMinute,
        Disabled = overrides.Disabled ?? file.Disabled,
        TickSeconds = overrides.TickSeconds ?? file.TickSeconds,
        LeaseSeconds = file.LeaseSeconds,
        RegistryConcurrency = overrides.RegistryConcurrency ?? file.RegistryConcurrency,
        RegistryRequestsPerSecond = overrides.RegistryRequestsPerSecond ?? file.RegistryRequestsPerSecond,
        RegistryOverrides = overrides.RegistryOverrides is null
            ? [.. file.RegistryOverrides.Select(o => new RegistryOverride { Host = o.Host, Concurrency = o.Concurrency, RequestsPerSecond = o.RequestsPerSecond })]
            : JsonSerializer.Deserialize<List<RegistryOverride>>(overrides.RegistryOverrides) ?? [],
    };

    private static string Describe(ScheduleOptions o) =>
        $"interval {o.DefaultIntervalSeconds}s (min {o.MinimumIntervalSeconds}s), {o.MaxImportsPerMinute}/min, tick {o.TickSeconds}s{(o.Disabled ? ", disabled" : "")}, "
        + $"per registry {o.RegistryConcurrency} at once and {o.RegistryRequestsPerSecond}/s"
        + string.Concat(o.RegistryOverrides.Select(r => $", {r.Host}: {r.Concurrency?.ToString() ?? "-"} at once and {r.RequestsPerSecond?.ToString() ?? "-"}/s"));
}
