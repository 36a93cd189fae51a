using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Dashboard.Bench;

/// <summary>Counts the SQL commands EF sends and sums their execution time (commands running in parallel add up).</summary>
internal sealed class SqlCommandCounter : DbCommandInterceptor
{
    private long _commands;
    private long _ticks;

    public (long Commands, TimeSpan Time) Snapshot => (Interlocked.Read(ref _commands), TimeSpan.FromTicks(Interlocked.Read(ref _ticks)));

    public override ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result,
        CancellationToken cancellationToken = default) => new(Count(eventData, result));

    public override ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result,
        CancellationToken cancellationToken = default) => new(Count(eventData, result));

    public override ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result,
        CancellationToken cancellationToken = default) => new(Count(eventData, result));

    public override DbDataReader ReaderExecuted(DbCommand command, CommandExecutedEventData eventData, DbDataReader result) => Count(eventData, result);

    public override int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result) => Count(eventData, result);

    public override object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result) => Count(eventData, result);

    private T Count<T>(CommandExecutedEventData eventData, T result)
    {
        Interlocked.Increment(ref _commands);
        Interlocked.Add(ref _ticks, eventData.Duration.Ticks);
        return result;
    }
}
