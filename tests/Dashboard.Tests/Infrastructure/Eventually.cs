namespace Dashboard.Tests.Infrastructure;

/// <summary>Waits for background work (Hangfire jobs) whose effect a test observes from outside.</summary>
public static class Eventually
{
    /// <summary>Reads <paramref name="read"/> until <paramref name="done"/> holds or the time is up, and returns the last value read.</summary>
    public static async Task<T> ReadAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(100);
        }
    }
}
