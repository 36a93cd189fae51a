namespace Dashboard.Domain;

/// <summary>
/// A request the domain refuses, with a message meant for the person who made it.
/// The host turns each kind into its HTTP status and RFC 7807 problem details, and pages show the message in place.
/// </summary>
public abstract class DashboardException(string message) : Exception(message);

/// <summary>Input that breaks a rule; <see cref="Errors"/> names each bad field (400).</summary>
public sealed class ValidationFailedException(IReadOnlyDictionary<string, string[]> errors)
    : DashboardException(string.Join(" ", errors.SelectMany(e => e.Value)))
{
    public ValidationFailedException(string field, string message)
        : this(new Dictionary<string, string[]> { [field] = [message] })
    {
    }

    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}

/// <summary>The thing asked for does not exist, or the caller may not see it (404).</summary>
public sealed class NotFoundException(string message) : DashboardException(message);

/// <summary>A name already taken (409).</summary>
public sealed class ConflictException(string field, string message) : DashboardException(message)
{
    public string Field { get; } = field;
}

/// <summary>The caller may see the thing but not change it (403).</summary>
public sealed class ForbiddenException(string message) : DashboardException(message);
