using System.Text.Json.Nodes;

namespace Dashboard.Domain.Policy;

/// <summary>An admission request the dashboard could not read; answered 400 with this message.</summary>
public sealed class MalformedAdmissionException(string message) : Exception(message);

/// <summary>What an <c>admission.k8s.io/v1</c> AdmissionReview asks, reduced to what the policy needs.</summary>
public sealed record AdmissionQuestion(string Uid, string Namespace, string Operation, string Kind, string? Name, string Resource,
    IReadOnlyList<CheckedImage> Images);

/// <summary>
/// Reads AdmissionReviews: the images of Pods (containers, init containers, ephemeral containers, also through the
/// <c>ephemeralcontainers</c> subresource), of every workload with a pod template (PodTemplate, ReplicationController,
/// ReplicaSet, Deployment, DaemonSet, StatefulSet, Job, CronJob, OpenShift DeploymentConfig), and the <c>from</c> image of
/// OpenShift Builds and BuildConfigs (docker, source and custom strategies).
/// </summary>
public static class AdmissionReviewReader
{
    public const string ApiVersion = "admission.k8s.io/v1";

    private static readonly HashSet<string> TemplateKinds =
        ["ReplicationController", "ReplicaSet", "Deployment", "DaemonSet", "StatefulSet", "Job", "DeploymentConfig"];

    /// <summary>
    /// Reads a review; any shape it cannot read — a field of the wrong type, a duplicate property — is a
    /// <see cref="MalformedAdmissionException"/> naming where, never another exception (the endpoint answers 400).
    /// </summary>
    public static AdmissionQuestion Read(JsonNode? review)
    {
        try
        {
            return ReadChecked(review);
        }
        catch (ArgumentException e)
        {
            // JsonObject reads its properties on first use and refuses a duplicate name then.
            throw new MalformedAdmissionException($"The AdmissionReview cannot be read: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            throw new MalformedAdmissionException($"The AdmissionReview cannot be read: {e.Message}");
        }
    }

    private static AdmissionQuestion ReadChecked(JsonNode? review)
    {
        if (review is not JsonObject root)
        {
            throw new MalformedAdmissionException("The body is not a JSON object: send an admission.k8s.io/v1 AdmissionReview.");
        }

        if (root["request"] is not JsonObject request)
        {
            throw new MalformedAdmissionException("The AdmissionReview has no 'request' object.");
        }

        var uid = Text(request, "uid", "request.uid") ?? throw new MalformedAdmissionException("The AdmissionReview request has no 'uid'.");
        var operation = Text(request, "operation", "request.operation")
            ?? throw new MalformedAdmissionException("The AdmissionReview request has no 'operation'.");
        var kind = Object(request, "kind", "request.kind") is { } gvk ? Text(gvk, "kind", "request.kind.kind") : null;
        var @namespace = Text(request, "namespace", "request.namespace") ?? "";
        var name = Text(request, "name", "request.name");
        var subResource = Text(request, "subResource", "request.subResource");
        if (operation is not ("CREATE" or "UPDATE"))
        {
            return new AdmissionQuestion(uid, @namespace, operation, kind ?? "", name, PolicyResources.Pods, []);
        }

        if (kind is null)
        {
            throw new MalformedAdmissionException("The AdmissionReview request has no 'kind.kind'.");
        }

        if (Object(request, "object", "request.object") is not { } obj)
        {
            throw new MalformedAdmissionException($"The {operation} of a {kind} carries no 'object'.");
        }

        name ??= Object(obj, "metadata", "/metadata") is { } metadata ? Text(metadata, "name", "/metadata/name") : null;
        var (resource, images) = ImagesOf(kind, obj, subResource);
        return new AdmissionQuestion(uid, @namespace, operation, kind, name, resource, images);
    }

    /// <summary>
    /// The resource the policy judges an object of <paramref name="kind"/> as, and the images it names (none for a kind that
    /// has none). A shape it cannot read throws <see cref="MalformedAdmissionException"/> naming the path.
    /// </summary>
    public static (string Resource, IReadOnlyList<CheckedImage> Images) ImagesOf(string kind, JsonObject obj, string? subResource = null)
    {
        var images = new List<CheckedImage>();
        var resource = PolicyResources.Pods;
        switch (kind)
        {
            case "Pod":
                PodSpec(obj, ["spec"], images, ephemeralOnly: subResource == "ephemeralcontainers");
                break;
            case "PodTemplate":
                PodSpec(obj, ["template", "spec"], images);
                break;
            case "CronJob":
                PodSpec(obj, ["spec", "jobTemplate", "spec", "template", "spec"], images);
                break;
            case "Build" or "BuildConfig":
                resource = PolicyResources.Builds;
                BuildStrategy(Walk(obj, ["spec", "strategy"]), images);
                break;
            case var template when TemplateKinds.Contains(template):
                PodSpec(obj, ["spec", "template", "spec"], images);
                break;
        }

        return (resource, images);
    }

    /// <summary>The AdmissionReview answer: the request's uid, allowed or a 403 status naming every violation, and warnings.</summary>
    public static JsonObject Answer(string uid, PolicyDecision? decision, string? refusal = null)
    {
        var response = new JsonObject { ["uid"] = uid, ["allowed"] = decision?.Allowed ?? refusal is null };
        var message = refusal ?? (decision is { Allowed: false } ? decision.Message : null);
        if (message is not null)
        {
            response["status"] = new JsonObject { ["code"] = 403, ["reason"] = "Forbidden", ["message"] = message };
        }

        if (decision is { Warnings.Count: > 0 })
        {
            // Kubernetes shows each warning as a header value of at most 256 characters.
            response["warnings"] = new JsonArray([.. decision.Warnings.Select(w => (JsonNode)Clip(PolicyDecision.Describe(w, "is warned about by"), 256))]);
        }

        return new JsonObject { ["apiVersion"] = ApiVersion, ["kind"] = "AdmissionReview", ["response"] = response };
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static void PodSpec(JsonObject obj, string[] steps, List<CheckedImage> images, bool ephemeralOnly = false)
    {
        if (Walk(obj, steps) is not { } pod)
        {
            return;
        }

        var path = "/" + string.Join('/', steps);
        if (!ephemeralOnly)
        {
            Containers(pod["initContainers"], $"{path}/initContainers", "init container", images);
            Containers(pod["containers"], $"{path}/containers", "container", images);
        }

        Containers(pod["ephemeralContainers"], $"{path}/ephemeralContainers", "ephemeral container", images);
    }

    private static void Containers(JsonNode? list, string path, string what, List<CheckedImage> images)
    {
        if (list is null)
        {
            return;
        }

        if (list is not JsonArray containers)
        {
            throw new MalformedAdmissionException($"'{path}' is not a list.");
        }

        for (var i = 0; i < containers.Count; i++)
        {
            if (containers[i] is not JsonObject container)
            {
                throw new MalformedAdmissionException($"'{path}/{i}' is not an object.");
            }

            images.Add(new CheckedImage(Text(container, "image", $"{path}/{i}/image") ?? "", $"{what} {Text(container, "name", $"{path}/{i}/name") ?? "?"}",
                $"{path}/{i}/image"));
        }
    }

    private static void BuildStrategy(JsonObject? strategy, List<CheckedImage> images)
    {
        foreach (var (field, what) in new[] { ("dockerStrategy", "docker"), ("sourceStrategy", "source"), ("customStrategy", "custom") })
        {
            var path = $"/spec/strategy/{field}/from";
            if (strategy is not null && Walk(strategy, [field, "from"], "/spec/strategy") is { } from && Text(from, "kind", $"{path}/kind") == "DockerImage")
            {
                images.Add(new CheckedImage(Text(from, "name", $"{path}/name") ?? "", $"{what} build strategy", $"{path}/name"));
            }
        }
    }

    /// <summary>The object at <paramref name="steps"/> below <paramref name="obj"/>; null when a step is missing, malformed when one is not an object.</summary>
    private static JsonObject? Walk(JsonObject obj, string[] steps, string at = "")
    {
        var current = obj;
        foreach (var step in steps)
        {
            at += "/" + step;
            if (Object(current, step, at) is not { } next)
            {
                return null;
            }

            current = next;
        }

        return current;
    }

    private static JsonObject? Object(JsonObject obj, string property, string path) => obj[property] switch
    {
        null => null,
        JsonObject child => child,
        _ => throw new MalformedAdmissionException($"'{path}' is not an object."),
    };

    private static string? Text(JsonObject obj, string property, string path) => obj[property] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => throw new MalformedAdmissionException($"'{path}' is not a string."),
    };
}
