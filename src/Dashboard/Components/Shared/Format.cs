namespace Dashboard.Components.Shared;

/// <summary>How sizes, ages and digests read on the pages.</summary>
public static class Format
{
    public static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : $"{value:0.#} {units[unit]}";
    }

    public static string Age(DateTime then, DateTime now)
    {
        var age = now - then;
        return age.TotalSeconds < 60 ? "just now"
            : age.TotalMinutes < 60 ? $"{(int)age.TotalMinutes} min ago"
            : age.TotalHours < 48 ? $"{(int)age.TotalHours} h ago"
            : $"{(int)age.TotalDays} days ago";
    }

    public static string When(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm 'UTC'");

    public static string ShortDigest(string digest)
    {
        var colon = digest.IndexOf(':');
        return colon > 0 && digest.Length > colon + 12 ? digest[..(colon + 13)] : digest;
    }
}
