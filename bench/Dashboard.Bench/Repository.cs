namespace Dashboard.Bench;

/// <summary>The repository's root: the nearest folder above the binaries that holds Dashboard.sln.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Dashboard.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Dashboard.sln was not found above the benchmark's binaries.");
    }
}
