using Microsoft.EntityFrameworkCore;

namespace Dashboard.Domain.Persistence;

internal static class SaveExtensions
{
    /// <summary>
    /// Saves, turning a unique-index violation (two people creating the same name at once, after both checked it was free)
    /// into the same 409 the check gives, and a concurrent edit into a clear request to reload.
    /// </summary>
    public static async Task SaveUniqueAsync(this DbContext db, string field, string takenMessage, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException(field, "Someone else changed this in the meantime; reload and try again.");
        }
        catch (DbUpdateException)
        {
            throw new ConflictException(field, takenMessage);
        }
    }
}

internal static class ConcurrentSaveExtensions
{
    /// <summary>Saves; an edit that lost a race with another person's is refused with a request to reload, not lost silently.</summary>
    public static async Task SaveCheckedAsync(this DbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("", "Someone else changed this in the meantime; reload and try again.");
        }
    }
}
