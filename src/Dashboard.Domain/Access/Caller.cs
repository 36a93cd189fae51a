namespace Dashboard.Domain.Access;

/// <summary>Who is asking: every domain service decides what to show and allow from this alone.</summary>
public sealed record Caller(string UserId, string UserName, bool IsAdmin)
{
    /// <summary>Background work done by the dashboard itself (jobs), recorded in the audit trail as <c>system</c>.</summary>
    public static Caller System { get; } = new("", "system", true);

    /// <summary>A registry client that did not log in: it reads only namespaces that allow anonymous pulls, and only through the registry endpoint.</summary>
    public static Caller Anonymous { get; } = new("", "anonymous", false);

    public bool IsAnonymous => UserId.Length == 0 && !IsAdmin;
}
