using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Domain.Access;
using Dashboard.Domain.Auditing;
using Dashboard.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Registry.Mirrors;

/// <summary>The stored mirrors document: one row holding it as JSON, and a version that moves on with every change.</summary>
public sealed class MirrorSettingsRow
{
    public int Id { get; set; } = 1;

    public string Document { get; set; } = "{}";

    public long Version { get; set; }

    public DateTime? UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }
}

/// <summary>
/// Reads and replaces the registry mirrors (Admins; every change audited) and keeps them in memory: routing a registry
/// call never reads the database. Another instance's change arrives by <see cref="InstanceTopics.Mirrors"/>, and within
/// <see cref="RecheckEvery"/> if that signal was lost.
/// </summary>
public sealed class MirrorStore
{
    public static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(30);

    /// <summary>The longest stored document: the document's own bounds keep it far below.</summary>
    public const int MaxDocumentLength = 1024 * 1024;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly IDbContextFactory<DashboardDbContext> _contexts;
    private readonly TimeProvider _clock;
    private readonly IInstanceSignals _signals;
    private readonly VersionedSnapshot<MirrorConfiguration> _mirrors;

    public MirrorStore(IDbContextFactory<DashboardDbContext> contexts, TimeProvider clock, IInstanceSignals signals)
    {
        _contexts = contexts;
        _clock = clock;
        _signals = signals;
        _mirrors = new VersionedSnapshot<MirrorConfiguration>(clock, RecheckEvery);
        signals.Subscribe(InstanceTopics.Mirrors, () =>
        {
            _mirrors.Forget();
            return Task.CompletedTask;
        });
    }

    /// <summary>The mirrors in force; re-read when another instance may have changed them.</summary>
    public ValueTask<MirrorConfiguration> CurrentAsync(CancellationToken ct = default) =>
        _mirrors.GetAsync(_contexts,
            async (db, token) => await db.MirrorSettings.OrderBy(r => r.Id).Select(r => (long?)r.Version).FirstOrDefaultAsync(token) ?? 0,
            async (db, token) => await db.MirrorSettings.AsNoTracking().OrderBy(r => r.Id).FirstOrDefaultAsync(token) is { } row
                ? Read(row.Document)
                : MirrorConfiguration.Empty,
            ct);

    public async Task<MirrorConfiguration> GetAsync(Caller caller, CancellationToken ct = default)
    {
        caller.RequireAdmin("read the registry mirrors");
        _mirrors.Forget();
        return await CurrentAsync(ct);
    }

    /// <summary>
    /// Replaces the whole document, validated whole: a bad entry is refused naming it (<c>imageTagMirrors[0].mirrors[1]</c>)
    /// and the document in force stays. Audited with the document before and after; every instance is told.
    /// </summary>
    public async Task<MirrorConfiguration> PutAsync(Caller caller, MirrorConfiguration? wanted, CancellationToken ct = default)
    {
        caller.RequireAdmin("change the registry mirrors");
        var configuration = MirrorConfiguration.Validate(wanted);
        await using var db = await _contexts.CreateDbContextAsync(ct);
        var row = await db.MirrorSettings.OrderBy(r => r.Id).FirstOrDefaultAsync(ct);
        if (row is null)
        {
            row = new MirrorSettingsRow();
            db.MirrorSettings.Add(row);
        }

        var before = row.Document;
        row.Document = JsonSerializer.Serialize(configuration, Json);
        row.Version++;
        row.UpdatedAt = _clock.GetUtcNow().UtcDateTime;
        row.UpdatedBy = caller.UserName;
        AuditTrail.Record(db, _clock, caller, "changed", "Mirrors", null, "mirrors", $"{Shorten(before)} → {Shorten(row.Document)}");
        await db.SaveUniqueAsync("", "Someone else changed the mirrors at the same time; reload and try again.", ct);
        _mirrors.Keep(row.Version, configuration);
        await _signals.PublishAsync(InstanceTopics.Mirrors);
        return configuration;
    }

    internal static MirrorConfiguration Read(string json)
    {
        var stored = JsonSerializer.Deserialize<MirrorConfiguration>(json, Json);
        return new MirrorConfiguration(stored?.ImageDigestMirrors ?? [], stored?.ImageTagMirrors ?? [], stored?.InsecureRegistries ?? []);
    }

    private static string Shorten(string json) => json.Length <= 900 ? json : json[..899] + "…";
}
