using System.Diagnostics;
using System.Text;
using Dashboard.Domain.Registry;

namespace Dashboard.Bench;

/// <summary>
/// Issues a recorded set of registry requests directly, as fast as the registry answers them: the floor an importer
/// making the same requests could reach. The leading tag listing goes first on its own (an importer cannot know the
/// tags before it), then the rest a bounded number at a time. Every body is read to the end and every answer must be
/// a success.
/// </summary>
internal static class RequestReplay
{
    private static readonly string Accept = string.Join(", ", MediaTypes.AcceptedManifests);

    /// <summary>A plain pooled <see cref="HttpClient"/> and <see cref="Parallel.ForEachAsync{T}(IEnumerable{T}, ParallelOptions, Func{T, CancellationToken, ValueTask})"/>.</summary>
    public static async Task<TimeSpan> WithHttpClientAsync(string host, IReadOnlyList<AccessLogEntry> requests, int concurrency)
    {
        var (listing, rest) = Split(requests);
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = new Uri($"http://{host}"),
        };
        var watch = Stopwatch.StartNew();
        foreach (var request in listing)
        {
            await SendAsync(client, request, CancellationToken.None);
        }

        await Parallel.ForEachAsync(rest, new ParallelOptions { MaxDegreeOfParallelism = concurrency },
            async (request, ct) => await SendAsync(client, request, ct));
        return watch.Elapsed;
    }

    /// <summary>
    /// curl: one process for the listing, then one <c>curl --parallel --parallel-max N</c> for the rest (one process
    /// that keeps its connections, unlike a process per request through <c>xargs -P</c>).
    /// </summary>
    public static async Task<TimeSpan> WithCurlAsync(string host, IReadOnlyList<AccessLogEntry> requests, int concurrency)
    {
        var (listing, rest) = Split(requests);
        var configs = new[] { listing, rest }.Select(batch => (Path: Path.GetTempFileName(), Batch: batch)).ToList();
        try
        {
            foreach (var (path, batch) in configs)
            {
                // One curl config block per request (https://curl.se/docs/manpage.html#-K); "next" separates them.
                var blocks = batch.Select(r =>
                    $"url = \"http://{host}{r.Path}\"\noutput = \"/dev/null\"\nheader = \"Accept: {Accept}\"\n{(r.Status is >= 200 and < 300 ? "fail\n" : "")}{(r.Method == "HEAD" ? "head\n" : "")}");
                await File.WriteAllTextAsync(path, string.Join("next\n", blocks), Encoding.ASCII);
            }

            var watch = Stopwatch.StartNew();
            await CurlAsync(["-sS", "-K", configs[0].Path]);
            await CurlAsync(["-sS", "--parallel", "--parallel-max", concurrency.ToString(), "-K", configs[1].Path]);
            return watch.Elapsed;
        }
        finally
        {
            configs.ForEach(c => File.Delete(c.Path));
        }
    }

    private static (List<AccessLogEntry> Listing, List<AccessLogEntry> Others) Split(IReadOnlyList<AccessLogEntry> requests)
    {
        var listing = requests.TakeWhile(r => r.Kind == "GET tags/list").ToList();
        return (listing, [.. requests.Skip(listing.Count)]);
    }

    private static async Task SendAsync(HttpClient client, AccessLogEntry recorded, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(new HttpMethod(recorded.Method), recorded.Path);
        request.Headers.Accept.ParseAdd(Accept);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        // The registry's answer as recorded: a 404 too (a registry without the referrers API answers it so).
        if ((int)response.StatusCode != recorded.Status)
        {
            throw new InvalidOperationException($"{recorded.Method} {recorded.Path} answered {(int)response.StatusCode}, recorded {recorded.Status}.");
        }

        await response.Content.CopyToAsync(Stream.Null, ct);
    }

    private static async Task CurlAsync(string[] arguments)
    {
        using var curl = Process.Start(new ProcessStartInfo("curl", arguments) { RedirectStandardError = true })
            ?? throw new InvalidOperationException("curl did not start");
        var errors = await curl.StandardError.ReadToEndAsync();
        await curl.WaitForExitAsync();
        if (curl.ExitCode != 0)
        {
            throw new InvalidOperationException($"curl {string.Join(' ', arguments)} exited with {curl.ExitCode}: {errors}");
        }
    }
}
