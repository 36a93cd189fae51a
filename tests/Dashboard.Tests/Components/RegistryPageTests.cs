using Bunit;
using Dashboard.Components.Pages;
using Dashboard.Domain.Images;
using Dashboard.Domain.Proxy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dashboard.Tests.Components;

public sealed class RegistryPageTests : ConsoleContext
{
    private readonly string _cache = Directory.CreateTempSubdirectory("dashboard-bunit-cache-").FullName;

    public RegistryPageTests() =>
        Services.AddSingleton(new BlobCache(_cache, new ProxyOptions(), NullLogger<BlobCache>.Instance));

    [Fact]
    public async Task An_admin_sees_the_cache_and_clears_it_after_confirming()
    {
        await SignInAsync("admin", admin: true);
        var cache = Services.GetRequiredService<BlobCache>();
        var blob = new byte[2048];
        var digest = Digest.Parse("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(blob)));
        var (_, _, complete) = cache.Join(digest);
        await cache.WriteAsync(digest, new MemoryStream(blob), Stream.Null, complete!, default);
        Assert.NotNull(cache.Blob(digest));

        var provider = Render<MudBlazor.MudDialogProvider>();
        var page = Render<RegistryPage>();
        Assert.Contains("cache size (1 blobs)", page.Markup);
        Assert.Contains("2 KiB", page.Markup);

        page.Find("button:contains('Clear cache')").Click();
        provider.WaitForAssertion(() => Assert.Contains("Delete every cached blob", provider.Markup));
        provider.Find(".mud-dialog button:contains('Clear')").Click();
        page.WaitForAssertion(() => Assert.Contains("cache size (0 blobs)", page.Markup));
        Assert.Null(cache.Blob(digest));
    }
}
