using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dashboard.Domain.Scheduling;
using Dashboard.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Api;

public sealed class SettingsApiTests(DashboardFactory app) : IClassFixture<DashboardFactory>
{
    [Fact]
    public async Task Import_settings_start_from_the_file_and_a_run_time_change_applies_and_is_kept()
    {
        using var admin = app.AsAdmin();
        var initial = await admin.GetFromJsonAsync<JsonElement>("/api/v1/settings/import");
        Assert.Equal(900, initial.GetProperty("defaultIntervalSeconds").GetInt32());
        Assert.Equal(60, initial.GetProperty("maxImportsPerMinute").GetInt32());

        var put = await admin.PutAsJsonAsync("/api/v1/settings/import",
            new { defaultIntervalSeconds = 1800, minimumIntervalSeconds = 600, maxImportsPerMinute = 120, disabled = true, tickSeconds = 30 });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var read = await admin.GetFromJsonAsync<JsonElement>("/api/v1/settings/import");
        Assert.Equal(1800, read.GetProperty("defaultIntervalSeconds").GetInt32());
        Assert.True(read.GetProperty("disabled").GetBoolean());
        // The scheduler reads them at once: switched off, a tick queues nothing.
        Assert.True(app.Services.GetRequiredService<ScheduleSettings>().Current.Disabled);
        Assert.Empty(await app.Services.GetRequiredService<ImportScheduler>().TickAsync());

        (await admin.PutAsJsonAsync("/api/v1/settings/import",
            new { defaultIntervalSeconds = 900, minimumIntervalSeconds = 900, maxImportsPerMinute = 60, disabled = false, tickSeconds = 60 })).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_bad_value_is_refused_naming_it_and_nothing_changes()
    {
        using var admin = app.AsAdmin();
        var before = await admin.GetFromJsonAsync<JsonElement>("/api/v1/settings/import");
        var bad = await admin.PutAsJsonAsync("/api/v1/settings/import",
            new { defaultIntervalSeconds = 900, minimumIntervalSeconds = 0, maxImportsPerMinute = 0, disabled = false, tickSeconds = 90 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await Problem.ReadAsync(bad)).GetProperty("errors");
        Assert.NotEmpty(errors.GetProperty("minimumIntervalSeconds").EnumerateArray());
        Assert.Contains("-1", errors.GetProperty("maxImportsPerMinute")[0].GetString());
        Assert.Contains("whole minutes", errors.GetProperty("tickSeconds")[0].GetString());
        Assert.Equal(before.ToString(), (await admin.GetFromJsonAsync<JsonElement>("/api/v1/settings/import")).ToString());
    }

    [Fact]
    public async Task Per_registry_bounds_change_at_run_time_with_host_overrides_and_a_bad_host_is_named()
    {
        using var admin = app.AsAdmin();
        var bad = await admin.PutAsJsonAsync("/api/v1/settings/import",
            new { registryOverrides = new object[] { new { host = "not a host", concurrency = 0 } } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await Problem.ReadAsync(bad)).GetProperty("errors");
        Assert.Contains("not a host", errors.GetProperty("registryOverrides[0].host")[0].GetString());
        Assert.True(errors.TryGetProperty("registryOverrides[0].concurrency", out _));

        var put = await admin.PutAsJsonAsync("/api/v1/settings/import",
            new { registryConcurrency = 8, registryOverrides = new object[] { new { host = "Quay.io", concurrency = 2, requestsPerSecond = 1.5 } } });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var read = await admin.GetFromJsonAsync<JsonElement>("/api/v1/settings/import");
        Assert.Equal(8, read.GetProperty("registryConcurrency").GetInt32());
        Assert.Equal(900, read.GetProperty("defaultIntervalSeconds").GetInt32());
        Assert.Equal("quay.io", read.GetProperty("registryOverrides")[0].GetProperty("host").GetString());

        // The registry client asks for the bounds on every request: they apply now.
        var throttle = app.Services.GetRequiredService<Dashboard.Domain.Registry.RegistryThrottle>();
        Assert.Equal(new Dashboard.Domain.Registry.RegistryBounds(2, 1.5), throttle.BoundsFor("quay.io"));
        Assert.Equal(new Dashboard.Domain.Registry.RegistryBounds(8, 20), throttle.BoundsFor("ghcr.io"));

        (await admin.PutAsJsonAsync("/api/v1/settings/import", new { registryConcurrency = 4, registryOverrides = Array.Empty<object>() }))
            .EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Only_admins_read_or_change_the_settings()
    {
        await app.CreateUserAsync("settings-viewer");
        using var user = app.As("settings-viewer", DashboardFactory.UserPassword);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/api/v1/settings/import")).StatusCode);
    }
}
