using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Net.Http.Json;
using Dashboard.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using OpenTelemetry.Trace;

namespace Dashboard.Tests.Observability;

/// <summary>
/// What an operator's tracing backend receives when <c>Dashboard:Telemetry:OtlpEndpoint</c> is set. The OTLP collector
/// is the one part not run here: the app is given an endpoint where nothing listens, and OpenTelemetry's in-memory
/// exporter is added beside the app's own OTLP exporter.
/// </summary>
public sealed class TracingTests : IAsyncLifetime
{
    private readonly Spans _spans = [];
    private readonly AppWithRegistry _own;

    public TracingTests() => _own = new AppWithRegistry(builder =>
    {
        builder.UseSetting("Dashboard:Telemetry:OtlpEndpoint", "http://127.0.0.1:9");
        builder.ConfigureTestServices(services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)));
    });

    private DashboardFactory App => _own.App;

    private RegistryServer Registry => _own.Registry;

    public Task InitializeAsync() => _own.InitializeAsync();

    public Task DisposeAsync() => _own.DisposeAsync();

    [Fact]
    public async Task An_import_is_one_span_with_its_registry_requests_as_children()
    {
        await ImagePusher.PushImageAsync(Registry, "team/traced", "1");
        await App.CreateNamespaceAsync("traced", "app");
        using var admin = App.AsAdmin();

        (await admin.PutAsJsonAsync("/api/v1/namespaces/traced/imagestreams/app/tags/1",
            new { from = $"{Registry.Host}/team/traced:1", insecure = true })).EnsureSuccessStatusCode();

        // The server's span ends after its answer has left: wait for it.
        var finished = await Eventually.ReadAsync(() => Task.FromResult(_spans.Snapshot()),
            all => all.Any(s => s.DisplayName == "import" && (string?)s.GetTagItem("dashboard.namespace") == "traced"
                && all.Any(p => p.SpanId == s.ParentSpanId)));
        var import = Assert.Single(finished, s => s.DisplayName == "import" && (string?)s.GetTagItem("dashboard.namespace") == "traced");
        Assert.Equal(("app", "1", "Imported"), ((string?)import.GetTagItem("dashboard.stream"), (string?)import.GetTagItem("dashboard.tag"),
            (string?)import.GetTagItem("dashboard.import.result")));
        var requests = finished.Where(s => s.ParentSpanId == import.SpanId && s.Kind == ActivityKind.Client).ToList();
        Assert.NotEmpty(requests);
        Assert.All(requests, request => Assert.Contains(Registry.Host, (string?)request.GetTagItem("url.full")));
        Assert.Contains(requests, request => ((string?)request.GetTagItem("url.full"))!.Contains("/v2/team/traced/manifests/1"));
        // The import sits under the API request that asked for it, in the same trace.
        var server = Assert.Single(finished, s => s.SpanId == import.ParentSpanId);
        Assert.Equal(ActivityKind.Server, server.Kind);
    }

    /// <summary>The exporter's list: it adds as spans end, on their threads; the test reads a copy.</summary>
    private sealed class Spans : Collection<Activity>
    {
        public Activity[] Snapshot()
        {
            lock (this)
            {
                return [.. this];
            }
        }

        protected override void InsertItem(int index, Activity item)
        {
            lock (this)
            {
                base.InsertItem(index, item);
            }
        }
    }
}
