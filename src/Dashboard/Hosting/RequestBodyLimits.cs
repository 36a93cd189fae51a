using Dashboard.Admission;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Dashboard.Hosting;

/// <summary>
/// Every request body is bounded while it is read, not measured after: admission reviews by
/// <c>Dashboard:Admission:MaxRequestBytes</c>, everything else by <see cref="MaxRequestBytes"/>. A declared length past the
/// bound is refused before a byte is read; a chunked body is cut at the first byte past it (413). Kestrel's own limit is
/// set too, and the stream wrapper holds where a server has none (the in-process test server).
/// </summary>
internal static class RequestBodyLimits
{
    /// <summary>The largest body of the API, sign-in and console posts: a policy of a thousand rules fits many times.</summary>
    public const long MaxRequestBytes = 4 * 1024 * 1024;

    public static void UseRequestBodyLimits(this WebApplication app)
    {
        var admission = app.Services.GetRequiredService<IOptionsMonitor<AdmissionOptions>>();
        app.Use(async (context, next) =>
        {
            var limit = context.Request.Path.StartsWithSegments("/admission") ? admission.CurrentValue.MaxRequestBytes : MaxRequestBytes;
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            {
                feature.MaxRequestBodySize = limit;
            }

            if (context.Request.ContentLength > limit)
            {
                throw TooLarge(limit);
            }

            context.Request.Body = new BoundedStream(context.Request.Body, limit);
            await next(context);
        });
    }

    public static BadHttpRequestException TooLarge(long limit) =>
        new($"The request body is larger than {limit} bytes, the most this endpoint reads.", StatusCodes.Status413PayloadTooLarge);

    /// <summary>Reads through to the request body and throws 413 at the first byte past the limit.</summary>
    private sealed class BoundedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw TooLarge(limit) : read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
