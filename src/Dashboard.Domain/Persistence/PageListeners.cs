namespace Dashboard.Domain.Persistence;

/// <summary>
/// The open pages of this instance that want to hear that something changed: each adds itself until disposed, and
/// <see cref="TellAsync"/> calls them one after another. What changed is for them to read again; a page that went away
/// between the copy and the call is skipped.
/// </summary>
public sealed class PageListeners
{
    private readonly Lock _lock = new();
    private readonly List<Func<Task>> _listeners = [];

    public IDisposable Add(Func<Task> changed)
    {
        lock (_lock)
        {
            _listeners.Add(changed);
        }

        return new Listener(this, changed);
    }

    public async Task TellAsync()
    {
        Func<Task>[] listeners;
        lock (_lock)
        {
            listeners = [.. _listeners];
        }

        foreach (var listener in listeners)
        {
            try
            {
                await listener();
            }
            catch (ObjectDisposedException)
            {
                // A page that went away between the copy and the call.
            }
        }
    }

    private sealed class Listener(PageListeners owner, Func<Task> changed) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._lock)
            {
                owner._listeners.Remove(changed);
            }
        }
    }
}
