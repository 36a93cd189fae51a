using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Tests.Infrastructure;

namespace Dashboard.Tests.Admission;

/// <summary>
/// Issue 12, finding 3: every shape error in an AdmissionReview is a 400 with a message, never a 500. For every kind the
/// reader knows, every node of a well-formed review is swapped in turn for a value of another type, and both endpoints
/// are asked.
/// </summary>
public sealed class MalformedReviewTests(DashboardFactory app) : IClassFixture<DashboardFactory>
{
    private const string PodSpec = """
        {"initContainers":[{"name":"init","image":"busybox:1.36"}],"containers":[{"name":"app","image":"nginx:1.27"}],
         "ephemeralContainers":[{"name":"debug","image":"alpine:3"}]}
        """;

    private const string Strategy = """
        {"dockerStrategy":{"from":{"kind":"DockerImage","name":"golang:1.22"}},"sourceStrategy":{"from":{"kind":"DockerImage","name":"ruby:3"}},
         "customStrategy":{"from":{"kind":"DockerImage","name":"builder:1"}}}
        """;

    public static TheoryData<string, string> Kinds => new()
    {
        { "Pod", "{\"metadata\":{\"name\":\"w\"},\"spec\":" + PodSpec.Trim() + "}" },
        { "PodTemplate", "{\"metadata\":{\"name\":\"w\"},\"template\":{\"spec\":" + PodSpec.Trim() + "}}" },
        { "ReplicationController", Template() },
        { "ReplicaSet", Template() },
        { "Deployment", Template() },
        { "DaemonSet", Template() },
        { "StatefulSet", Template() },
        { "Job", Template() },
        { "DeploymentConfig", Template() },
        { "CronJob", "{\"metadata\":{\"name\":\"w\"},\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":" + PodSpec.Trim() + "}}}}}" },
        { "Build", "{\"metadata\":{\"name\":\"w\"},\"spec\":{\"strategy\":" + Strategy.Trim() + "}}" },
        { "BuildConfig", "{\"metadata\":{\"name\":\"w\"},\"spec\":{\"strategy\":" + Strategy.Trim() + "}}" },
    };

    private static string Template() => "{\"metadata\":{\"name\":\"w\"},\"spec\":{\"template\":{\"spec\":" + PodSpec.Trim() + "}}}";

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Finding_3_a_review_with_any_field_of_the_wrong_type_is_answered_400_with_a_message_never_500(string kind, string @object)
    {
        using var cluster = app.Cluster();
        var review = JsonNode.Parse(AdmissionReviewTests.Review(kind, @object))!;
        using (var intact = await cluster.PostAsync("/admission/validate", Json(review.ToJsonString())))
        {
            Assert.Equal(HttpStatusCode.OK, intact.StatusCode);
        }

        var wrong = new List<string>();
        var swapped = 0;
        foreach (var path in Paths(review, ""))
        {
            foreach (var replacement in Replacements(Find(review, path)))
            {
                var mutated = review.DeepClone();
                Replace(mutated, path, replacement);
                swapped++;
                foreach (var endpoint in new[] { "/admission/validate", "/admission/mutate" })
                {
                    using var answer = await cluster.PostAsync(endpoint, Json(mutated.ToJsonString()));
                    var body = await answer.Content.ReadAsStringAsync();
                    var fine = answer.StatusCode == HttpStatusCode.OK
                        || (answer.StatusCode == HttpStatusCode.BadRequest && JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!.Length > 10);
                    if (!fine)
                    {
                        wrong.Add($"{endpoint} with {path} = {replacement.ToJsonString()}: {(int)answer.StatusCode} {body[..Math.Min(200, body.Length)]}");
                    }
                }
            }
        }

        Assert.True(swapped > 20, $"only {swapped} fields were swapped");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Theory]
    [InlineData("uid")]
    [InlineData("operation")]
    // Inside the object too: an image named twice must not be judged by one and run by the other.
    [InlineData("image")]
    public async Task Finding_3_a_review_with_a_duplicate_key_is_answered_400(string key)
    {
        using var cluster = app.Cluster();
        var text = AdmissionReviewTests.Review("Pod", """{"metadata":{"name":"w"},"spec":{"containers":[{"name":"app","image":"nginx:1"}]}}""")
            .Replace($"\"{key}\":", $"\"{key}\":\"again\",\"{key}\":");
        using var answer = await cluster.PostAsync("/admission/validate", Json(text));
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains(key, await answer.Content.ReadAsStringAsync());
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    /// <summary>Every node's path below the root, as JSON pointer steps.</summary>
    private static IEnumerable<string> Paths(JsonNode node, string path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    yield return $"{path}/{key}";
                    if (child is not null)
                    {
                        foreach (var below in Paths(child, $"{path}/{key}"))
                        {
                            yield return below;
                        }
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    yield return $"{path}/{i}";
                    foreach (var below in Paths(array[i]!, $"{path}/{i}"))
                    {
                        yield return below;
                    }
                }

                break;
        }
    }

    private static JsonNode? Find(JsonNode root, string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Aggregate((JsonNode?)root, (node, step) => node is JsonArray a ? a[int.Parse(step)] : node![step]);

    /// <summary>Values of every other type than the one there.</summary>
    private static IEnumerable<JsonNode> Replacements(JsonNode? original) => original switch
    {
        JsonObject => [JsonValue.Create("x"), new JsonArray(1, 2)],
        JsonArray => [JsonValue.Create("x"), new JsonObject { ["a"] = 1 }],
        _ => [new JsonObject { ["a"] = 1 }, new JsonArray("x"), JsonValue.Create(42)],
    };

    private static void Replace(JsonNode root, string path, JsonNode value)
    {
        var steps = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var parent = Find(root, "/" + string.Join('/', steps[..^1]));
        if (parent is JsonArray array)
        {
            array[int.Parse(steps[^1])] = value;
        }
        else
        {
            parent![steps[^1]] = value;
        }
    }
}
