namespace Dashboard.Domain.Auditing;

/// <summary>One change: who did what to which thing, and a short before/after summary.</summary>
public sealed class AuditEntry
{
    public const int MaxSummaryLength = 2000;

    private AuditEntry()
    {
        UserName = "";
        Action = "";
        Kind = "";
        Target = "";
        Summary = "";
    }

    public AuditEntry(DateTime at, string userName, string action, string kind, string? @namespace, string target, string summary)
    {
        At = at;
        UserName = userName;
        Action = action;
        Kind = kind;
        Namespace = @namespace;
        Target = target;
        Summary = summary.Length <= MaxSummaryLength ? summary : summary[..(MaxSummaryLength - 1)] + "…";
    }

    public long Id { get; private set; }

    public DateTime At { get; private set; }

    public string UserName { get; private set; }

    /// <summary>What happened, e.g. <c>created</c>, <c>deleted</c>, <c>changed</c>.</summary>
    public string Action { get; private set; }

    /// <summary>What kind of thing changed, e.g. <c>ImageStream</c>, <c>Tag</c>, <c>User</c>.</summary>
    public string Kind { get; private set; }

    public string? Namespace { get; private set; }

    public string Target { get; private set; }

    public string Summary { get; private set; }
}
