using Dashboard.Domain.ImageStreams;

namespace Dashboard.Domain.Import;

public enum RepositoryImportState
{
    /// <summary>Waiting for a background worker.</summary>
    Queued,

    /// <summary>Importing its tags; <see cref="RepositoryImportRun.Done"/> of <see cref="RepositoryImportRun.Total"/> finished.</summary>
    Running,

    /// <summary>Every tag was tried (some may have failed: <see cref="RepositoryImportRun.Failed"/>).</summary>
    Finished,

    /// <summary>The import as a whole could not go on (the repository could not be listed, the requester lost access).</summary>
    Failed,
}

/// <summary>
/// A repository import running in the background: started from the console's dialog or the API (<c>Prefer:
/// respond-async</c>), followed by the stream page and by polling, whoever asked and wherever they went meanwhile.
/// </summary>
public sealed class RepositoryImportRun
{
    public const int MaxMessageLength = 2000;

    /// <summary>The tags in flight are shown, not kept: a few names at most.</summary>
    public const int MaxInFlightLength = 1000;

    private RepositoryImportRun()
    {
        Namespace = Stream = From = "";
    }

    public RepositoryImportRun(int namespaceId, string @namespace, string stream, RepositoryImportRequest request, string? requestedBy, int total, DateTime at)
    {
        NamespaceId = namespaceId;
        Namespace = @namespace;
        Stream = stream;
        From = request.From ?? "";
        MaxTags = request.MaxTags;
        Insecure = request.Insecure;
        Scheduled = request.Scheduled;
        ImportMode = request.ImportMode;
        RequestedBy = string.IsNullOrEmpty(requestedBy) ? null : requestedBy;
        Total = total;
        StartedAt = at;
    }

    public long Id { get; private set; }

    public int NamespaceId { get; private set; }

    public string Namespace { get; private set; }

    public string Stream { get; private set; }

    public string From { get; private set; }

    public int? MaxTags { get; private set; }

    public bool Insecure { get; private set; }

    public bool Scheduled { get; private set; }

    public ImportMode ImportMode { get; private set; }

    /// <summary>The user the import runs as (null: the dashboard itself); checked again when the job starts.</summary>
    public string? RequestedBy { get; private set; }

    public RepositoryImportState State { get; private set; }

    public int Total { get; private set; }

    public int Done { get; private set; }

    public int Failed { get; private set; }

    /// <summary>The tags being imported now, comma-separated.</summary>
    public string? InFlight { get; private set; }

    /// <summary>Why the import as a whole failed.</summary>
    public string? Message { get; private set; }

    /// <summary>The finished import's outcome per tag and the tags left out, as JSON (<see cref="RepositoryImportResult"/>).</summary>
    public string? Result { get; private set; }

    public DateTime StartedAt { get; private set; }

    public DateTime? FinishedAt { get; private set; }

    public bool IsOver => State is RepositoryImportState.Finished or RepositoryImportState.Failed;

    public RepositoryImportRequest Request => new(From, MaxTags, Insecure, Scheduled, ImportMode);

    public void Finish(string result, int total, int failed, DateTime at)
    {
        (State, Result, Total, Done, Failed, InFlight, FinishedAt) = (RepositoryImportState.Finished, result, total, total, failed, null, at);
    }

    public void Fail(string message, DateTime at)
    {
        (State, InFlight, FinishedAt) = (RepositoryImportState.Failed, null, at);
        Message = message.Length <= MaxMessageLength ? message : message[..(MaxMessageLength - 1)] + "…";
    }

    public static string InFlightText(IEnumerable<string> tags)
    {
        var text = string.Join(", ", tags);
        return text.Length <= MaxInFlightLength ? text : text[..(MaxInFlightLength - 1)] + "…";
    }
}
