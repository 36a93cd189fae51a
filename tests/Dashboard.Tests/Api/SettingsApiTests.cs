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
    public async Task Only_admins_read_or_change_the_settings()
    {
        await app.CreateUserAsync("settings-viewer");
        using var user = app.As("settings-viewer", DashboardFactory.UserPassword);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/api/v1/settings/import")).StatusCode);
    }
}
