using System.Text.Json;
using Dashboard.Domain.Access;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dashboard.Domain.Import;

/// <summary>Runs a repository import on the host's job system, so it outlives the request or page that started it.</summary>
public interface IRepositoryImportQueue
{
    void Enqueue(long runId);
}

/// <summary>
/// Without a job system (the domain alone, as component tests use it): the import runs on the thread pool of this
/// process, and a restart loses it. The host replaces it with Hangfire.
/// </summary>
public sealed class InProcessRepositoryImportQueue(IServiceProvider services) : IRepositoryImportQueue
{
    public void Enqueue(long runId) =>
        _ = Task.Run(() => services.GetRequiredService<RepositoryImportRuns>().RunAsync(runId));
}

/// <summary>
/// Repository imports in the background: <see cref="StartAsync"/> checks and plans at once (a bad source is the caller's
/// error, answered now), records a run and queues it; <see cref="RunAsync"/> imports as the requester, writing its progress
/// to the run as tags finish and telling open pages on every instance. See docs/decisions/0013-background-repository-imports.md.
/// </summary>
public sealed class RepositoryImportRuns(
    IDbContextFactory<DashboardDbContext> contexts, RepositoryImporter importer, IRepositoryImportQueue queue, IInstanceSignals signals,
    TimeProvider clock, ILogger<RepositoryImportRuns> logger)
{
    /// <summary>Progress is written at most this often (and always at the end): 200 tags are not 400 updates.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    private readonly PageListeners _pages = new();
    private IDisposable? _fromOtherInstances;
    private object? _fromOtherInstancesLock;
    private bool _listening;

    public async Task<RepositoryImportRun> StartAsync(Caller caller, string @namespace, string stream, RepositoryImportRequest request, CancellationToken ct = default)
    {
        if (ImageStreams.ImageStreamName.Validate(stream) is { } problem)
        {
            throw new ValidationFailedException("name", problem);
        }

        var plan = await importer.PlanAsync(caller, @namespace, request, ct);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: true, ct);
        var run = new RepositoryImportRun(ns.Id, ns.Name, stream, request, caller.UserId, plan.Selected.Count, clock.GetUtcNow().UtcDateTime);
        db.RepositoryImportRuns.Add(run);
        await db.SaveChangesAsync(ct);
        queue.Enqueue(run.Id);
        await PublishAsync();
        return run;
    }

    /// <summary>The run, for a caller who reads its namespace; one "not found" for a missing run and a closed namespace.</summary>
    public async Task<RepositoryImportRun> GetAsync(Caller caller, string @namespace, long id, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: false, ct);
        return await db.RepositoryImportRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id && r.NamespaceId == ns.Id, ct)
            ?? throw new NotFoundException($"Namespace '{@namespace}' has no repository import {id}.");
    }

    /// <summary>The stream's imports still going, and those that ended within the last minute (so a page sees how they ended).</summary>
    public async Task<IReadOnlyList<RepositoryImportRun>> CurrentAsync(Caller caller, string @namespace, string stream, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ns = await db.RequireNamespaceAsync(caller, @namespace, write: false, ct);
        var since = clock.GetUtcNow().UtcDateTime - TimeSpan.FromMinutes(1);
        return await db.RepositoryImportRuns.AsNoTracking()
            .Where(r => r.NamespaceId == ns.Id && r.Stream == stream)
            .Where(r => r.State == RepositoryImportState.Queued || r.State == RepositoryImportState.Running || r.FinishedAt >= since)
            .OrderBy(r => r.Id).Take(20).ToListAsync(ct);
    }

    /// <summary>Runs one queued import (the job). Again after a crash: tags already imported cost a HEAD each.</summary>
    public async Task RunAsync(long id, CancellationToken ct = default)
    {
        RepositoryImportRun? run;
        Caller? caller;
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            run = await db.RepositoryImportRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
            if (run is null || run.IsOver)
            {
                return;
            }

            // As the person who asked, as they are now: a requester who was disabled or lost the namespace meanwhile imports nothing.
            caller = run.RequestedBy is null ? Caller.System : await db.CallerOfAsync(run.RequestedBy, ct);
            await db.RepositoryImportRuns.Where(r => r.Id == id)
                .ExecuteUpdateAsync(set => set.SetProperty(r => r.State, RepositoryImportState.Running), ct);
        }

        await PublishAsync();
        try
        {
            if (caller is null)
            {
                throw new ForbiddenException("The user who started this import no longer exists or is disabled.");
            }

            var written = long.MinValue;
            var result = await importer.ImportAsync(caller, run.Namespace, run.Stream, run.Request, ct, async progress =>
            {
                if (clock.GetElapsedTime(written) < ProgressInterval && progress.Done < progress.Total)
                {
                    return;
                }

                written = clock.GetTimestamp();
                await WriteProgressAsync(id, progress, ct);
            });
            await EndAsync(id, run => run.Finish(JsonSerializer.Serialize(result), result.Imported.Count, result.Imported.Count(o => !o.Succeeded),
                clock.GetUtcNow().UtcDateTime), ct);
        }
        catch (Exception e) when (e is DashboardException or RegistryException)
        {
            logger.LogInformation("Repository import {Run} of {Namespace}/{Stream} failed: {Message}", id, run.Namespace, run.Stream, e.Message);
            await EndAsync(id, run => run.Fail(e.Message, clock.GetUtcNow().UtcDateTime), ct);
        }
    }

    /// <summary>The finished import's outcome per tag, or null while it runs.</summary>
    public static RepositoryImportResult? ResultOf(RepositoryImportRun run) =>
        run.Result is null ? null : JsonSerializer.Deserialize<RepositoryImportResult>(run.Result);

    /// <summary>Calls <paramref name="changed"/> when any repository import moved on (on any instance), until disposed.</summary>
    public IDisposable Subscribe(Func<Task> changed)
    {
        // Another instance's progress reaches this instance's pages too: listened to from the first page that asks.
        LazyInitializer.EnsureInitialized(ref _fromOtherInstances, ref _listening, ref _fromOtherInstancesLock,
            () => signals.Subscribe(InstanceTopics.RepositoryImports, _pages.TellAsync));
        return _pages.Add(changed);
    }

    private async Task WriteProgressAsync(long id, RepositoryImportProgress progress, CancellationToken ct)
    {
        var inFlight = RepositoryImportRun.InFlightText(progress.InFlight);
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            await db.RepositoryImportRuns.Where(r => r.Id == id).ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Total, progress.Total)
                .SetProperty(r => r.Done, progress.Done)
                .SetProperty(r => r.Failed, progress.Failed)
                .SetProperty(r => r.InFlight, inFlight), ct);
        }

        await PublishAsync();
    }

    private async Task EndAsync(long id, Action<RepositoryImportRun> end, CancellationToken ct)
    {
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            var run = await db.RepositoryImportRuns.FirstAsync(r => r.Id == id, ct);
            end(run);
            await db.SaveChangesAsync(ct);
        }

        await PublishAsync();
    }

    private async Task PublishAsync()
    {
        await signals.PublishAsync(InstanceTopics.RepositoryImports);
        await _pages.TellAsync();
    }
}
