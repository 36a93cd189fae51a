using System.Text;
using System.Text.Json.Nodes;
using Dashboard.Admission;
using Dashboard.Domain.Policy;

namespace Dashboard.Tests.Admission;

/// <summary>AdmissionReview fixtures for every kind the webhook reads, shaped as the API server sends them.</summary>
public sealed class AdmissionReviewTests
{
    private const string PodSpec = """
        {"initContainers":[{"name":"init","image":"busybox:1.36"}],
         "containers":[{"name":"app","image":"quay.io/org/app:1"},{"name":"sidecar","image":"envoyproxy/envoy:v1.30"}],
         "ephemeralContainers":[{"name":"debugger","image":"nicolaka/netshoot"}]}
        """;

    public static string Review(string kind, string @object, string operation = "CREATE", string? subResource = null, string group = "apps",
        string @namespace = "team-a") => $$$"""
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
          "uid":"705ab4f5-6393-11e8-b7cc-42010a800002",
          "kind":{"group":"{{{group}}}","version":"v1","kind":"{{{kind}}}"},
          "resource":{"group":"{{{group}}}","version":"v1","resource":"{{{kind.ToLowerInvariant()}}}s"},
          {{{(subResource is null ? "" : $"\"subResource\":\"{subResource}\",")}}}
          "namespace":"{{{@namespace}}}","operation":"{{{operation}}}",
          "userInfo":{"username":"admin"},
          "object":{{{@object}}}}}
        """;

    private static ReceivedReview Read(string review) => AdmissionReviewReader.Read(Encoding.UTF8.GetBytes(review));

    private static readonly string[] AllFour = ["busybox:1.36", "quay.io/org/app:1", "envoyproxy/envoy:v1.30", "nicolaka/netshoot"];

    /// <summary>An object named web whose pod spec sits at <paramref name="path"/> (dot-separated).</summary>
    private static string At(string path)
    {
        var root = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "web" } };
        var node = root;
        foreach (var part in path.Split('.')[..^1])
        {
            var next = new JsonObject();
            node[part] = next;
            node = next;
        }

        node[path.Split('.')[^1]] = JsonNode.Parse(PodSpec);
        return root.ToJsonString();
    }

    public static TheoryData<string, string> Workloads => new()
    {
        { "Pod", At("spec") },
        { "PodTemplate", At("template.spec") },
        { "ReplicationController", At("spec.template.spec") },
        { "ReplicaSet", At("spec.template.spec") },
        { "Deployment", At("spec.template.spec") },
        { "DaemonSet", At("spec.template.spec") },
        { "StatefulSet", At("spec.template.spec") },
        { "Job", At("spec.template.spec") },
        { "CronJob", At("spec.jobTemplate.spec.template.spec") },
        { "DeploymentConfig", At("spec.template.spec") },
    };

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Every_workload_kind_gives_the_images_of_its_init_regular_and_ephemeral_containers(string kind, string obj)
    {
        var question = Read(Review(kind, obj)).Question;

        Assert.Equal(("team-a", "CREATE", kind, "web", PolicyResources.Pods), (question.Namespace, question.Operation, question.Kind, question.Name, question.Resource));
        Assert.Equal(AllFour.Order(), question.Images.Select(i => i.Reference).Order());
        Assert.Contains(question.Images, i => i.Where == "init container init");
        Assert.Contains(question.Images, i => i.Where == "ephemeral container debugger");
    }

    [Fact]
    public void The_ephemeral_containers_subresource_asks_about_the_ephemeral_containers()
    {
        var question = Read(Review("Pod", At("spec"), "UPDATE", "ephemeralcontainers", "")).Question;
        Assert.Equal(["nicolaka/netshoot"], question.Images.Select(i => i.Reference));
    }

    [Theory]
    [InlineData("Build")]
    [InlineData("BuildConfig")]
    public void Builds_give_the_from_image_of_their_strategy_for_the_builds_resource(string kind)
    {
        var obj = """
            {"metadata":{"name":"app"},"spec":{"strategy":{"type":"Docker","dockerStrategy":{"from":{"kind":"DockerImage","name":"registry.access.redhat.com/ubi9:latest"}}}}}
            """;
        var question = Read(Review(kind, obj, group: "build.openshift.io")).Question;

        Assert.Equal(PolicyResources.Builds, question.Resource);
        var image = Assert.Single(question.Images);
        Assert.Equal(("registry.access.redhat.com/ubi9:latest", "docker build strategy"), (image.Reference, image.Where));
    }

    [Fact]
    public void A_delete_is_not_asked_about()
    {
        var review = Read(Review("Pod", "null", "DELETE"));
        Assert.Empty(review.Question.Images);
        var answer = AdmissionReviewReader.Answer(review.Uid, null);
        Assert.True(answer.Response.Allowed);
        Assert.Equal("705ab4f5-6393-11e8-b7cc-42010a800002", answer.Response.Uid);
    }

    [Theory]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1"}""", "no 'request'")]
    [InlineData("""{"request":{"operation":"CREATE"}}""", "no 'uid'")]
    [InlineData("""{"request":{"uid":"1","operation":"CREATE","kind":{"kind":"Pod"}}}""", "carries no 'object'")]
    [InlineData("""{"request":{"uid":"1","object":{}}}""", "no 'operation'")]
    public void A_malformed_review_says_what_is_missing(string body, string says)
    {
        var e = Assert.Throws<MalformedAdmissionException>(() => Read(body));
        Assert.Contains(says, e.Message);
    }

    [Fact]
    public void A_refusal_answers_403_naming_container_image_rule_and_reason_and_warnings_are_listed()
    {
        var decision = new PolicyDecision(false,
            [new PolicyFinding("docker.io/library/nginx:latest", "container app", "no-latest", "Pin a version.")],
            [new PolicyFinding("docker.io/library/redis:7", "container cache", "warn-hub", "Docker Hub is rate-limited.")], [], []);

        var response = AdmissionReviewReader.Answer("u-1", decision).Response;

        Assert.False(response.Allowed);
        Assert.Equal(403, response.Status!.Code);
        Assert.Equal("container app: image docker.io/library/nginx:latest is refused by rule 'no-latest': Pin a version.", response.Status.Message);
        Assert.Contains("warn-hub", response.Warnings![0]);
    }
}
