using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dashboard.Domain.Policy;
using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Policy;

/// <summary>
/// <c>POST /api/v1/policy/evaluate</c> with a YAML body: a whole release (a Helm template's output, a kustomize build)
/// judged object by object, as a CI pipeline asks before it deploys.
/// </summary>
public sealed class ReleaseEvaluationTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await app.CreateNamespaceAsync("shop");
        await app.CreateNamespaceAsync("payments");
        await app.CreateUserAsync("shop-ci", "shop");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[]
        {
            new { name = "no-latest", tags = new[] { "latest" }, description = "Pin a version." },
            new { name = "warn-docker-hub", action = "Deny", enforcement = "Warn", registries = new[] { "docker.io" } },
        })).EnsureSuccessStatusCode();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static StringContent Yaml(string text, string type = "application/yaml") => new(text, Encoding.UTF8, type);

    private const string Release = """
        # Source: shop/templates/web.yaml
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          template:
            spec:
              containers:
              - name: app
                image: quay.io/shop/web:2.1
        ---
        # Source: shop/templates/cleanup.yaml
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: cleanup
        spec:
          schedule: "0 3 * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                  - name: cleanup
                    image: busybox
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          ports: [{port: 80}]
        """;

    [Fact]
    public async Task A_release_is_refused_when_one_object_is_and_every_object_is_listed_with_its_findings()
    {
        using var bot = app.As("shop-ci", DashboardFactory.UserPassword);

        var answer = await bot.PostAsync("/api/v1/policy/evaluate?namespace=shop", Yaml(Release));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var result = await answer.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(result.GetProperty("allowed").GetBoolean());
        var objects = result.GetProperty("objects").EnumerateArray().ToArray();
        Assert.Equal([("Deployment", "web", true), ("CronJob", "cleanup", false), ("Service", "web", true)],
            objects.Select(o => (o.GetProperty("kind").GetString(), o.GetProperty("name").GetString(), o.GetProperty("allowed").GetBoolean())).ToArray());
        Assert.Empty(objects[0].GetProperty("violations").EnumerateArray());
        var violation = Assert.Single(objects[1].GetProperty("violations").EnumerateArray());
        Assert.Equal(("docker.io/library/busybox:latest", "container cleanup", "no-latest"),
            (violation.GetProperty("image").GetString(), violation.GetProperty("where").GetString(), violation.GetProperty("rule").GetString()));
        Assert.Equal("warn-docker-hub", Assert.Single(objects[1].GetProperty("warnings").EnumerateArray()).GetProperty("rule").GetString());
        // An object without images is listed, allowed, with nothing to say.
        Assert.Empty(objects[2].GetProperty("violations").EnumerateArray());
        Assert.Empty(objects[2].GetProperty("warnings").EnumerateArray());
        Assert.All(objects, o => Assert.Equal("shop", o.GetProperty("namespace").GetString()));
    }

    [Fact]
    public async Task A_list_is_judged_item_by_item_and_every_yaml_content_type_is_read()
    {
        using var bot = app.As("shop-ci", DashboardFactory.UserPassword);
        const string list = """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Pod
              metadata: {name: debug}
              spec: {containers: [{name: shell, image: "quay.io/shop/tools:1"}]}
            - apiVersion: v1
              kind: ConfigMap
              metadata: {name: settings}
              data: {mode: prod}
            """;

        foreach (var type in new[] { "application/x-yaml", "text/yaml", "application/yaml" })
        {
            var result = await (await bot.PostAsync("/api/v1/policy/evaluate?namespace=shop", Yaml(list, type))).Content.ReadFromJsonAsync<JsonElement>();

            Assert.True(result.GetProperty("allowed").GetBoolean(), type);
            Assert.Equal(["Pod debug", "ConfigMap settings"],
                result.GetProperty("objects").EnumerateArray().Select(o => $"{o.GetProperty("kind").GetString()} {o.GetProperty("name").GetString()}"));
        }
    }

    [Theory]
    [InlineData("kind: ConfigMap\nmetadata: {name: a}\n---\nkind: Pod\nmetadata:\n  name: p\n   labels: {}\n", "Document 2 is not YAML (line 7")]
    [InlineData("kind: ConfigMap\n---\napiVersion: v1\nmetadata: {name: a}\n", "Document 2 (line 3) has no 'kind'.")]
    [InlineData("kind: Pod\nmetadata: {name: p}\nspec: {containers: {name: app}}\n", "Document 1 (line 1), Pod p: '/spec/containers' is not a list.")]
    public async Task Input_that_is_not_a_release_is_refused_400_naming_the_document(string body, string says)
    {
        using var bot = app.As("shop-ci", DashboardFactory.UserPassword);

        var answer = await bot.PostAsync("/api/v1/policy/evaluate?namespace=shop", Yaml(body));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains(says, await Problem.FieldErrorAsync(answer, "body"));
    }

    [Fact]
    public async Task More_documents_than_the_bound_are_refused_400()
    {
        using var bot = app.As("shop-ci", DashboardFactory.UserPassword);
        var body = string.Concat(Enumerable.Repeat("apiVersion: v1\nkind: ConfigMap\n---\n", ManifestReader.MaxDocuments + 1));

        var answer = await bot.PostAsync("/api/v1/policy/evaluate?namespace=shop", Yaml(body));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("More than 500 documents", await Problem.FieldErrorAsync(answer, "body"));
    }

    [Fact]
    public async Task A_caller_who_cannot_read_the_namespace_gets_the_answer_the_json_form_gives()
    {
        using var bot = app.As("shop-ci", DashboardFactory.UserPassword);

        var json = await bot.PostAsJsonAsync("/api/v1/policy/evaluate", new { @namespace = "payments", images = new[] { "nginx:1.27" } });
        var yaml = await bot.PostAsync("/api/v1/policy/evaluate?namespace=payments", Yaml(Release));

        Assert.Equal(HttpStatusCode.Forbidden, json.StatusCode);
        Assert.Equal(json.StatusCode, yaml.StatusCode);
        Assert.Equal((await Problem.ReadAsync(json)).GetProperty("detail").GetString(), (await Problem.ReadAsync(yaml)).GetProperty("detail").GetString());
        // An object's own namespace is judged as the namespace it names: one the caller cannot read is refused the same way.
        var elsewhere = await bot.PostAsync("/api/v1/policy/evaluate?namespace=shop",
            Yaml("kind: Pod\nmetadata: {name: p, namespace: payments}\nspec: {containers: [{name: a, image: 'quay.io/a:1'}]}\n"));
        Assert.Equal(HttpStatusCode.Forbidden, elsewhere.StatusCode);
        Assert.Equal("You may ask about namespace 'payments' only as its member.", (await Problem.ReadAsync(elsewhere)).GetProperty("detail").GetString());
        // Without a namespace, the same 400 as the JSON form.
        var none = await bot.PostAsync("/api/v1/policy/evaluate", Yaml(Release));
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        await Problem.FieldErrorAsync(none, "namespace");
    }

    [Fact]
    public async Task A_body_without_a_content_type_is_answered_as_the_json_form_answers_it()
    {
        using var bot = app.As("shop-ci", DashboardFactory.UserPassword);

        var answer = await bot.PostAsync("/api/v1/policy/evaluate?namespace=shop", new ByteArrayContent(Encoding.UTF8.GetBytes(Release)));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, answer.StatusCode);
    }

    [Fact]
    public async Task A_kustomize_build_piped_into_the_endpoint_is_judged_in_the_namespace_it_sets()
    {
        var directory = Directory.CreateTempSubdirectory("dashboard-kustomize-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "kustomization.yaml"), """
                namespace: shop
                resources:
                - web.yaml
                images:
                - name: quay.io/shop/web
                  newTag: latest
                configMapGenerator:
                - name: settings
                  literals: [mode=prod]
                """);
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "web.yaml"), """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                spec:
                  template:
                    spec:
                      containers:
                      - name: app
                        image: quay.io/shop/web:2.1
                """);
            var build = await Command.RunAsync("kubectl", ["kustomize", directory.FullName]);
            Assert.True(build.Succeeded, build.ToString());
            using var bot = app.As("shop-ci", DashboardFactory.UserPassword);

            var result = await (await bot.PostAsync("/api/v1/policy/evaluate?namespace=shop", Yaml(build.Output))).Content.ReadFromJsonAsync<JsonElement>();

            Assert.False(result.GetProperty("allowed").GetBoolean(), result.ToString());
            var objects = result.GetProperty("objects").EnumerateArray().ToDictionary(o => o.GetProperty("kind").GetString()!);
            Assert.StartsWith("settings-", objects["ConfigMap"].GetProperty("name").GetString());
            var web = objects["Deployment"];
            Assert.Equal("shop", web.GetProperty("namespace").GetString());
            Assert.Equal("quay.io/shop/web:latest", Assert.Single(web.GetProperty("violations").EnumerateArray()).GetProperty("image").GetString());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
