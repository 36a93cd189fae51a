namespace Dashboard.Domain.Scheduling;

/// <summary>The schedule of one scheduled spec tag: when it is checked next and how the last checks went.</summary>
public sealed class TagSchedule
{
    public const int MaxMessageLength = 2000;

    private TagSchedule()
    {
        Tag = "";
    }

    public TagSchedule(int imageStreamId, string tag, DateTime nextCheckAt)
    {
        ImageStreamId = imageStreamId;
        Tag = tag;
        NextCheckAt = nextCheckAt;
    }

    public long Id { get; private set; }

    public int ImageStreamId { get; private set; }

    public string Tag { get; private set; }

    public DateTime NextCheckAt { get; private set; }

    /// <summary>Set while a check is queued or running, so the next tick does not queue it again; a lapsed lease is retaken.</summary>
    public DateTime? LeasedUntil { get; private set; }

    public DateTime? LastCheckAt { get; private set; }

    public int? LastDurationMs { get; private set; }

    /// <summary>The last check's reason: Imported, Unchanged, or a failure reason such as Unreachable.</summary>
    public string? LastResult { get; private set; }

    public string? LastMessage { get; private set; }

    public int ConsecutiveFailures { get; private set; }

    public DateTime? LastChangeAt { get; private set; }

    /// <summary>The background job that made the last check (the monitoring page links to it); null for a manual import.</summary>
    public string? LastJobId { get; private set; }

    /// <summary>Records a check and plans the next one (backed off after failures).</summary>
    public void Record(DateTime at, TimeSpan duration, bool succeeded, bool changed, string result, string message, DateTime next, string? jobId = null)
    {
        LastCheckAt = at;
        LastJobId = jobId;
        LastDurationMs = (int)Math.Min(int.MaxValue, duration.TotalMilliseconds);
        LastResult = result;
        LastMessage = message.Length <= MaxMessageLength ? message : message[..(MaxMessageLength - 1)] + "…";
        ConsecutiveFailures = succeeded ? 0 : ConsecutiveFailures + 1;
        if (changed)
        {
            LastChangeAt = at;
        }

        NextCheckAt = next;
        LeasedUntil = null;
    }

}
