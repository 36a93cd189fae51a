namespace Dashboard.Domain.Persistence;

/// <summary>
/// Tells the other app instances that share the database that something changed which they keep in memory or show live
/// (schedule activity on open pages, import settings, the policy's image facts). One instance on SQLite has no one to
/// tell; on PostgreSQL the host sends it with <c>NOTIFY</c> (docs/decisions/0009-several-instances-on-postgresql.md).
/// </summary>
public interface IInstanceSignals
{
    /// <summary>Tells every other instance that <paramref name="topic"/> changed; never throws (a lost signal only delays a refresh).</summary>
    Task PublishAsync(string topic);

    /// <summary>Calls <paramref name="handler"/> when another instance published <paramref name="topic"/>, until disposed.</summary>
    IDisposable Subscribe(string topic, Func<Task> handler);
}

/// <summary>The topics instances tell each other about.</summary>
public static class InstanceTopics
{
    /// <summary>Checks were recorded or schedules changed: open schedule pages reload.</summary>
    public const string ScheduleActivity = "schedule-activity";

    /// <summary>An admin changed the import settings: every instance reads them again (registry bounds apply per instance).</summary>
    public const string ImportSettings = "import-settings";

    /// <summary>A background repository import moved on: open stream pages and import dialogs show where it is.</summary>
    public const string RepositoryImports = "repository-imports";

    /// <summary>An import or an annotation changed what the policy knows about images.</summary>
    public const string ImageFacts = "image-facts";

    /// <summary>An admin changed the registry mirrors: every instance reads them again.</summary>
    public const string Mirrors = "mirrors";
}

/// <summary>One instance: nothing to tell.</summary>
public sealed class SingleInstanceSignals : IInstanceSignals
{
    public Task PublishAsync(string topic) => Task.CompletedTask;

    public IDisposable Subscribe(string topic, Func<Task> handler) => NoSubscription.Instance;

    private sealed class NoSubscription : IDisposable
    {
        public static readonly NoSubscription Instance = new();

        public void Dispose()
        {
        }
    }
}
