namespace Dashboard.Hosting;

/// <summary>
/// Where the operator's <c>appsettings.json</c> is read from. The repository keeps one at its root; the build copies it
/// beside the binaries. When the working directory has one (running from the repository root, or from the publish
/// folder), that directory is the content root; otherwise the binaries' folder is, so the copied file is found.
/// </summary>
internal static class OperatorSettings
{
    public static WebApplicationOptions Options(string[] args)
    {
        var workingDirectory = Directory.GetCurrentDirectory();
        var contentRoot = File.Exists(Path.Combine(workingDirectory, "appsettings.json")) ? workingDirectory : AppContext.BaseDirectory;
        return new WebApplicationOptions { Args = args, ContentRootPath = contentRoot };
    }
}
