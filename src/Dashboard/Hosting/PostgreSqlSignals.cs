using System.Collections.Concurrent;
using Dashboard.Domain.Persistence;
using Npgsql;

namespace Dashboard.Hosting;

/// <summary>
/// <see cref="IInstanceSignals"/> between instances on one PostgreSQL database: <c>pg_notify</c> on a channel of the
/// dashboard's, and a connection of this instance's that <c>LISTEN</c>s on it. A notification carries the sender's
/// instance id and the topic, nothing else; each instance ignores its own. When the listening connection drops, it
/// reconnects and tells every subscriber once (a notification may have been missed meanwhile).
/// </summary>
internal sealed class PostgreSqlSignals(string connectionString, ILogger<PostgreSqlSignals> logger) : BackgroundService, IInstanceSignals
{
    public const string Channel = "dashboard_signals";

    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Guid, Func<Task>>> _handlers = new(StringComparer.Ordinal);
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    public async Task PublishAsync(string topic)
    {
        try
        {
            await using var command = _source.CreateCommand("SELECT pg_notify(@channel, @payload)");
            command.Parameters.AddWithValue("channel", Channel);
            command.Parameters.AddWithValue("payload", $"{_instance} {topic}");
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ObjectDisposedException)
        {
            // ObjectDisposedException: the app is stopping and the data source is gone.
            logger.LogWarning("Could not tell the other instances that {Topic} changed: {Reason}", topic, e.Message);
        }
    }

    public IDisposable Subscribe(string topic, Func<Task> handler)
    {
        var id = Guid.NewGuid();
        _handlers.GetOrAdd(topic, _ => new()).TryAdd(id, handler);
        return new Subscription(() => _handlers.GetValueOrDefault(topic)?.TryRemove(id, out _));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var missed = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _source.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Receive(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                if (missed)
                {
                    logger.LogInformation("Listening to the other instances again");
                    foreach (var topic in _handlers.Keys)
                    {
                        await TellAsync(topic);
                    }
                }

                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException)
            {
                missed = true;
                logger.LogWarning("Lost the connection that listens to the other instances ({Reason}); retrying in 2 s", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await _source.DisposeAsync();
    }

    private void Receive(string payload)
    {
        var parts = payload.Split(' ', 2);
        if (parts.Length == 2 && parts[0] != _instance)
        {
            _ = TellAsync(parts[1]);
        }
    }

    private async Task TellAsync(string topic)
    {
        foreach (var handler in _handlers.GetValueOrDefault(topic)?.Values ?? [])
        {
            try
            {
                await handler();
            }
            catch (Exception e)
            {
                // A subscriber's failure (a page gone, a refresh that failed) must not stop the others or the listener.
                logger.LogWarning(e, "A subscriber to {Topic} failed", topic);
            }
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
