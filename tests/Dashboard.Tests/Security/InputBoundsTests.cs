using System.Net;
using System.Net.Http.Headers;
using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Security;

/// <summary>
/// Issue 12, finding 2: request bodies are bounded while they are read. A chunked body (no length declared) far past the
/// bound is cut soon after it; the test counts the bytes the client was asked for, not the time it took.
/// </summary>
public sealed class InputBoundsTests(DashboardFactory app) : IClassFixture<DashboardFactory>
{
    private const long Huge = 29L * 1024 * 1024;

    /// <summary>What the server may have pulled past the bound: the transport's buffers, never the body.</summary>
    private const long Slack = 1024 * 1024;

    [Theory]
    [InlineData("/admission/validate", 4L * 1024 * 1024)]
    [InlineData("/admission/mutate", 4L * 1024 * 1024)]
    [InlineData("/api/v1/namespaces", 4L * 1024 * 1024)]
    [InlineData("/api/v1/policy/evaluate", 4L * 1024 * 1024)]
    public async Task Finding_2_a_chunked_body_past_the_bound_is_refused_413_after_reading_little_more_than_the_bound(string path, long bound)
    {
        using var client = path.StartsWith("/admission", StringComparison.Ordinal) ? app.Cluster() : app.AsAdmin();
        var body = new EndlessJson(Huge);
        using var answer = await client.PostAsync(path, body);

        var said = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)answer.StatusCode}: {said}");
        Assert.True(said.Contains("bytes"), said);
        // The client counts a chunk once it is taken whole: the one the server stopped in is not counted yet.
        Assert.InRange(body.Produced, bound - 64 * 1024, bound + Slack);
    }

    [Fact]
    public async Task A_declared_length_past_the_bound_is_refused_before_reading()
    {
        using var client = app.Cluster();
        var body = new EndlessJson(Huge, declareLength: true);
        using var answer = await client.PostAsync("/admission/validate", body);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, answer.StatusCode);
        Assert.True(body.Produced < Slack, $"{body.Produced} bytes were read of a body declared too large");
    }

    /// <summary>A JSON document that does not end within the bound (one long string), made as it is read, counting what was asked for.</summary>
    private sealed class EndlessJson : HttpContent
    {
        private readonly long _length;
        private readonly bool _declareLength;

        public EndlessJson(long length, bool declareLength = false)
        {
            (_length, _declareLength) = (length, declareLength);
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        public long Produced;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            // {"name":"aaaa… : valid as far as it goes, so a reader that does not stop at the bound reads all of it.
            var opening = "{\"name\":\""u8.ToArray();
            await stream.WriteAsync(opening);
            Interlocked.Add(ref Produced, opening.Length);
            var chunk = new byte[64 * 1024];
            Array.Fill(chunk, (byte)'a');
            while (Produced < _length)
            {
                await stream.WriteAsync(chunk);
                Interlocked.Add(ref Produced, chunk.Length);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _length;
            return _declareLength;
        }
    }
}
