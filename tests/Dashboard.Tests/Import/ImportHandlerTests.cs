using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Domain.Access;
using Dashboard.Domain.Import;
using Dashboard.Domain.ImageStreams;
using Dashboard.Tests.Infrastructure;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Import;

/// <summary>
/// The importer records into the stream and the stream raises what happened; reactions are handlers. A reaction added
/// here is one class registered beside the product's own, and what a handler does is saved with the import or not at all.
/// </summary>
public sealed class ImportHandlerTests : IAsyncLifetime
{
    private readonly Witness _witness = new();
    private readonly AppWithRegistry _own;

    public ImportHandlerTests() => _own = new AppWithRegistry(b => b.ConfigureTestServices(s => s.AddSingleton<ITagImportHandler>(_witness)));

    private DashboardFactory App => _own.App;

    private RegistryServer Registry => _own.Registry;

    public Task InitializeAsync() => _own.InitializeAsync();

    public Task DisposeAsync() => _own.DisposeAsync();

    [Fact]
    public async Task A_handler_of_ones_own_sees_a_change_then_the_import_an_unchanged_import_and_a_failure()
    {
        await ImagePusher.PushImageAsync(Registry, "team/app", "1", seed: "first");
        await App.CreateNamespaceAsync("raised", "app");
        using var admin = App.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/raised/imagestreams/app/tags/1", new { from = $"{Registry.Host}/team/app:1", insecure = true }))
            .EnsureSuccessStatusCode();
        (await admin.PostAsync("/api/v1/namespaces/raised/imagestreams/app/tags/1/import", null)).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/raised/imagestreams/app/tags/gone", new { from = $"{Registry.Host}/team/app:none", insecure = true }))
            .EnsureSuccessStatusCode();

        Assert.Equal(["1 TagChanged", "1 TagImported changed", "1 TagImported unchanged", "gone TagImportFailed NotFound"], _witness.Seen);
    }

    [Fact]
    public async Task What_a_handler_adds_is_saved_with_the_import_or_not_at_all()
    {
        await App.CreateNamespaceAsync("atomic", "app");
        using var admin = App.AsAdmin();
        // Saved before its image exists upstream (that import fails and changes nothing), then pushed.
        (await admin.PutAsJsonAsync("/api/v1/namespaces/atomic/imagestreams/app/tags/2", new { from = $"{Registry.Host}/team/app:2", insecure = true }))
            .EnsureSuccessStatusCode();
        await ImagePusher.PushImageAsync(Registry, "team/app", "2", seed: "second");
        _witness.FailOn = "2";
        var importer = App.Services.GetRequiredService<ImageImporter>();

        await Assert.ThrowsAsync<InvalidOperationException>(() => importer.ImportTagAsync(Caller.System, "atomic", "app", "2"));

        // The failed save kept neither the new history entry nor the change event the product's own handler added with it.
        var stream = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/atomic/imagestreams/app");
        Assert.DoesNotContain(stream.GetProperty("status").GetProperty("tags").EnumerateArray(), t => t.GetProperty("items").GetArrayLength() > 0);
        var changes = await admin.GetFromJsonAsync<JsonElement>("/api/v1/changes?namespace=atomic");
        Assert.Equal(0, changes.GetProperty("total").GetInt32());

        _witness.FailOn = null;
        var outcome = await importer.ImportTagAsync(Caller.System, "atomic", "app", "2");
        Assert.True(outcome.Changed);
        changes = await admin.GetFromJsonAsync<JsonElement>("/api/v1/changes?namespace=atomic");
        Assert.Equal(1, changes.GetProperty("total").GetInt32());
    }

    /// <summary>Writes down what it is handed; throws on a change of <see cref="FailOn"/> (after the product's handlers added their rows).</summary>
    private sealed class Witness : ITagImportHandler
    {
        private readonly ConcurrentQueue<string> _seen = new();

        public string? FailOn { get; set; }

        public IReadOnlyList<string> Seen => [.. _seen];

        public Task HandleAsync(TagImportContext context, TagImportEvent raised, CancellationToken ct)
        {
            if (raised is TagChanged && raised.Tag == FailOn)
            {
                throw new InvalidOperationException("A handler failed.");
            }

            _seen.Enqueue(raised switch
            {
                TagImported imported => $"{raised.Tag} TagImported {(imported.Changed ? "changed" : "unchanged")}",
                TagImportFailed failed => $"{raised.Tag} TagImportFailed {failed.Reason}",
                _ => $"{raised.Tag} {raised.GetType().Name}",
            });
            return Task.CompletedTask;
        }
    }
}
