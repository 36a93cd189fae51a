using System.Threading.Channels;

namespace Dashboard.Domain.Policy;

/// <summary>
/// The admission decisions on their way to the database: a bounded queue, so an answer never waits for the database, that
/// drops a decision when it is full (docs/decisions/0007-image-policy.md). It counts what it drops, and what the writer
/// could not write, so <c>/metrics</c> tells an operator when the decisions page misses decisions.
/// </summary>
public sealed class AdmissionDecisionQueue
{
    public const int DefaultCapacity = 10_000;

    private readonly Channel<AdmissionRecord> _records;
    private long _dropped;
    private long _unwritten;

    public AdmissionDecisionQueue(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        // Wait, not DropWrite: with a Drop mode TryWrite answers true for the record it drops, so nobody would know. Only
        // TryWrite is called, which never waits: it answers false when the queue is full.
        _records = Channel.CreateBounded<AdmissionRecord>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    }

    public ChannelReader<AdmissionRecord> Reader => _records.Reader;

    /// <summary>Decisions not kept since start: dropped because the queue was full, and lost because their batch failed to save.</summary>
    public (long QueueFull, long WriteFailed) Dropped => (Interlocked.Read(ref _dropped), Interlocked.Read(ref _unwritten));

    /// <summary>Queues <paramref name="record"/>, or counts it dropped when the queue is full; never waits.</summary>
    public bool TryEnqueue(AdmissionRecord record)
    {
        if (_records.Writer.TryWrite(record))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    public void CountUnwritten(int count) => Interlocked.Add(ref _unwritten, count);
}
