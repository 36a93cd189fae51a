using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dashboard.Domain.ImageStreams;
using Dashboard.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Api;

public sealed class ImageStreamsApiTests(DashboardFactory app) : IClassFixture<DashboardFactory>
{
    [Fact]
    public async Task A_namespace_is_created_listed_and_a_taken_name_is_refused_with_409()
    {
        using var admin = app.AsAdmin();
        var created = await admin.PostAsJsonAsync("/api/v1/namespaces", new { name = "payments" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/v1/namespaces/payments", created.Headers.Location?.OriginalString);

        var again = await admin.PostAsJsonAsync("/api/v1/namespaces", new { name = "payments" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("already exists", (await Problem.ReadAsync(again)).GetProperty("detail").GetString());

        var list = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces");
        Assert.Contains(list.EnumerateArray(), n => n.GetProperty("name").GetString() == "payments");
    }

    [Theory]
    [InlineData("Payments", "lower-case")]
    [InlineData("-payments", "starting and ending")]
    [InlineData("", "required")]
    public async Task An_invalid_namespace_name_is_refused_naming_the_field(string name, string expected)
    {
        using var admin = app.AsAdmin();
        var response = await admin.PostAsJsonAsync("/api/v1/namespaces", new { name });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await Problem.FieldErrorAsync(response, "name"));
    }

    [Fact]
    public async Task An_enum_given_as_a_number_is_refused_naming_the_property()
    {
        await app.CreateNamespaceAsync("enums");
        await app.CreateUserAsync("enum-user");
        using var admin = app.AsAdmin();
        var response = await admin.PutAsync("/api/v1/namespaces/enums/members/enum-user",
            new StringContent("{\"role\":5}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("$.role", (await Problem.ReadAsync(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_user_name_problem_is_filed_under_the_user_name()
    {
        using var admin = app.AsAdmin();
        var invalid = await admin.PostAsJsonAsync("/api/v1/users", new { userName = "bad name!", password = DashboardFactory.UserPassword });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("invalid", await Problem.FieldErrorAsync(invalid, "userName"));
    }

    [Fact]
    public async Task A_body_that_is_not_json_gets_a_400_problem_not_a_500()
    {
        using var admin = app.AsAdmin();
        var response = await admin.PostAsync("/api/v1/namespaces", new StringContent("{name: oops", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Problem.ReadAsync(response);
        Assert.Contains("JSON", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("   at ", problem.ToString());
    }

    [Fact]
    public async Task A_stream_with_a_tag_reads_back_in_openshift_shape_with_history_and_conditions()
    {
        await app.CreateNamespaceAsync("shop", "web");
        using var admin = app.AsAdmin();
        var put = await admin.PutAsJsonAsync("/api/v1/namespaces/shop/imagestreams/web/tags/1.0",
            new { from = new { kind = "DockerImage", name = "127.0.0.1:9/org/app:1.0" }, scheduled = true, referencePolicy = "Local" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var image = TestImages.Sample("web-1.0");
        var images = app.Services.GetRequiredService<ImageStreamService>();
        await images.RecordImportAsync(await app.CallerAsync(DashboardFactory.AdminUser), "shop", "web", "1.0", image);

        var stream = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/shop/imagestreams/web");
        Assert.Equal("shop", stream.GetProperty("namespace").GetString());
        var spec = stream.GetProperty("spec").GetProperty("tags")[0];
        Assert.Equal("1.0", spec.GetProperty("name").GetString());
        Assert.Equal("DockerImage", spec.GetProperty("from").GetProperty("kind").GetString());
        Assert.Equal("127.0.0.1:9/org/app:1.0", spec.GetProperty("from").GetProperty("name").GetString());
        Assert.True(spec.GetProperty("scheduled").GetBoolean());
        Assert.Equal("Local", spec.GetProperty("referencePolicy").GetString());

        var status = stream.GetProperty("status").GetProperty("tags")[0];
        Assert.Equal("1.0", status.GetProperty("tag").GetString());
        var item = status.GetProperty("items")[0];
        Assert.Equal(image.Digest, item.GetProperty("image").GetString());
        Assert.Equal($"quay.io/org/app@{image.Digest}", item.GetProperty("dockerImageReference").GetString());
        var condition = status.GetProperty("conditions")[0];
        Assert.Equal("ImportSuccess", condition.GetProperty("type").GetString());
        Assert.Equal("True", condition.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_invalid_tag_source_is_refused_and_the_existing_tag_is_kept()
    {
        await app.CreateNamespaceAsync("keep", "base");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/keep/imagestreams/base/tags/latest",
            new { from = new { kind = "DockerImage", name = "127.0.0.1:9/library/debian:12" } })).EnsureSuccessStatusCode();

        var bad = await admin.PutAsJsonAsync("/api/v1/namespaces/keep/imagestreams/base/tags/latest",
            new { from = new { kind = "DockerImage", name = "quay.io/Org/App:1" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("not valid", await Problem.FieldErrorAsync(bad, "from"));

        var stream = await admin.GetFromJsonAsync<JsonElement>("/api/v1/namespaces/keep/imagestreams/base");
        Assert.Equal("127.0.0.1:9/library/debian:12", stream.GetProperty("spec").GetProperty("tags")[0].GetProperty("from").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Deleting_a_tag_and_a_stream_removes_them_and_unknown_ones_answer_404()
    {
        await app.CreateNamespaceAsync("gone", "temp");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/gone/imagestreams/temp/tags/a",
            new { from = new { kind = "ImageStreamTag", name = "temp:b" } })).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/namespaces/gone/imagestreams/temp/tags/a")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/api/v1/namespaces/gone/imagestreams/temp/tags/a")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/namespaces/gone/imagestreams/temp")).StatusCode);
        var missing = await admin.GetAsync("/api/v1/namespaces/gone/imagestreams/temp");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("does not exist", (await Problem.ReadAsync(missing)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Non_admins_see_only_the_namespaces_they_are_members_of()
    {
        await app.CreateNamespaceAsync("visible", "one");
        await app.CreateNamespaceAsync("hidden", "two");
        await app.CreateUserAsync("member", "visible", "Editor");
        using var member = app.As("member", DashboardFactory.UserPassword);

        var names = (await member.GetFromJsonAsync<JsonElement>("/api/v1/namespaces")).EnumerateArray().Select(n => n.GetProperty("name").GetString()).ToList();
        Assert.Contains("visible", names);
        Assert.DoesNotContain("hidden", names);
        Assert.Equal(HttpStatusCode.NotFound, (await member.GetAsync("/api/v1/namespaces/hidden/imagestreams/two")).StatusCode);

        var created = await member.PostAsJsonAsync("/api/v1/namespaces/visible/imagestreams", new { name = "by-editor" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task Image_annotations_are_set_by_admins_and_the_image_shows_who_uses_it()
    {
        await app.CreateNamespaceAsync("scan", "api");
        var image = TestImages.Sample("scan-api");
        await app.Services.GetRequiredService<ImageStreamService>()
            .RecordImportAsync(await app.CallerAsync(DashboardFactory.AdminUser), "scan", "api", "v1", image);
        using var admin = app.AsAdmin();

        var put = await admin.PutAsJsonAsync($"/api/v1/images/{image.Digest}/annotations", new Dictionary<string, string> { ["scanner/critical"] = "0" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var read = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/images/{image.Digest}");
        Assert.Equal("0", read.GetProperty("annotations").GetProperty("scanner/critical").GetString());
        Assert.Equal(2, read.GetProperty("layers").GetArrayLength());
        Assert.Equal("linux", read.GetProperty("config").GetProperty("os").GetString());
        Assert.Equal("team-a", read.GetProperty("config").GetProperty("labels").GetProperty("maintainer").GetString());
        var use = read.GetProperty("usedBy")[0];
        Assert.Equal("scan/api:v1", $"{use.GetProperty("namespace").GetString()}/{use.GetProperty("stream").GetString()}:{use.GetProperty("tag").GetString()}");

        var malformed = await admin.GetAsync("/api/v1/images/sha256:nothex");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("hex", await Problem.FieldErrorAsync(malformed, "digest"));
    }

    [Fact]
    public async Task Every_change_is_in_the_audit_trail_with_who_and_what()
    {
        await app.CreateNamespaceAsync("audited", "svc");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/namespaces/audited/imagestreams/svc/tags/v2",
            new { from = new { kind = "DockerImage", name = "127.0.0.1:9/org/svc:v2" } })).EnsureSuccessStatusCode();

        var events = await admin.GetFromJsonAsync<JsonElement>("/api/v1/events?namespace=audited");
        var entries = events.GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(entries, e => e.GetProperty("kind").GetString() == "Namespace" && e.GetProperty("action").GetString() == "created");
        var tag = Assert.Single(entries, e => e.GetProperty("kind").GetString() == "Tag");
        Assert.Equal("admin", tag.GetProperty("user").GetString());
        Assert.Equal("svc:v2", tag.GetProperty("target").GetString());
        Assert.Contains("127.0.0.1:9/org/svc:v2", tag.GetProperty("summary").GetString());
    }

    [Fact]
    public async Task The_openapi_document_describes_the_api_to_signed_in_users()
    {
        using var admin = app.AsAdmin();
        var document = await admin.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/namespaces/{ns}/imagestreams/{name}", out _));
        Assert.True(paths.TryGetProperty("/api/v1/images/{digest}/annotations", out _));
    }
}
