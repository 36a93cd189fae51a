using System.Text.Json;

namespace Dashboard.Domain.Policy;

/// <summary>A Kubernetes object the dashboard could not read; admission answers 400 with this message.</summary>
public sealed class MalformedAdmissionException(string message) : Exception(message);

/// <summary>
/// The images a Kubernetes object names, by kind: of Pods (containers, init containers, ephemeral containers, also through
/// the <c>ephemeralcontainers</c> subresource), of every workload with a pod template (PodTemplate, ReplicationController,
/// ReplicaSet, Deployment, DaemonSet, StatefulSet, Job, CronJob, OpenShift DeploymentConfig), and the <c>from</c> image of
/// OpenShift Builds and BuildConfigs (docker, source and custom strategies). Admission's reviews and the evaluate API's
/// releases both read objects here, so a kind one reads the other reads too (decision 0007).
/// </summary>
public static class WorkloadImages
{
    private static readonly HashSet<string> TemplateKinds =
        ["ReplicationController", "ReplicaSet", "Deployment", "DaemonSet", "StatefulSet", "Job", "DeploymentConfig"];

    /// <summary>
    /// The resource the policy judges an object of <paramref name="kind"/> as, and the images it names (none for a kind that
    /// has none). A shape it cannot read throws <see cref="MalformedAdmissionException"/> naming the path.
    /// </summary>
    public static (string Resource, IReadOnlyList<CheckedImage> Images) Of(string kind, JsonElement obj, string? subResource = null)
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

    /// <summary>The object's <c>metadata.name</c>, if it has one.</summary>
    public static string? NameOf(JsonElement obj) => Object(obj, "metadata", "/metadata") is { } metadata ? Text(metadata, "name", "/metadata/name") : null;

    /// <summary>The object at <paramref name="property"/>; null when missing or null, malformed when it is not an object.</summary>
    public static JsonElement? Object(JsonElement obj, string property, string path) =>
        !obj.TryGetProperty(property, out var child) || child.ValueKind == JsonValueKind.Null ? null
        : child.ValueKind == JsonValueKind.Object ? child
        : throw new MalformedAdmissionException($"'{path}' is not an object.");

    /// <summary>The string at <paramref name="property"/>; null when missing or null, malformed when it is not a string.</summary>
    public static string? Text(JsonElement obj, string property, string path) =>
        !obj.TryGetProperty(property, out var child) || child.ValueKind == JsonValueKind.Null ? null
        : child.ValueKind == JsonValueKind.String ? child.GetString()
        : throw new MalformedAdmissionException($"'{path}' is not a string.");

    private static void PodSpec(JsonElement obj, string[] steps, List<CheckedImage> images, bool ephemeralOnly = false)
    {
        if (Walk(obj, steps) is not { } pod)
        {
            return;
        }

        var path = "/" + string.Join('/', steps);
        if (!ephemeralOnly)
        {
            Containers(pod, "initContainers", $"{path}/initContainers", "init container", images);
            Containers(pod, "containers", $"{path}/containers", "container", images);
        }

        Containers(pod, "ephemeralContainers", $"{path}/ephemeralContainers", "ephemeral container", images);
    }

    private static void Containers(JsonElement pod, string property, string path, string what, List<CheckedImage> images)
    {
        if (!pod.TryGetProperty(property, out var containers) || containers.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (containers.ValueKind != JsonValueKind.Array)
        {
            throw new MalformedAdmissionException($"'{path}' is not a list.");
        }

        var i = 0;
        foreach (var container in containers.EnumerateArray())
        {
            if (container.ValueKind != JsonValueKind.Object)
            {
                throw new MalformedAdmissionException($"'{path}/{i}' is not an object.");
            }

            images.Add(new CheckedImage(Text(container, "image", $"{path}/{i}/image") ?? "", $"{what} {Text(container, "name", $"{path}/{i}/name") ?? "?"}",
                $"{path}/{i}/image"));
            i++;
        }
    }

    private static void BuildStrategy(JsonElement? strategy, List<CheckedImage> images)
    {
        foreach (var (field, what) in new[] { ("dockerStrategy", "docker"), ("sourceStrategy", "source"), ("customStrategy", "custom") })
        {
            var path = $"/spec/strategy/{field}/from";
            if (strategy is { } s && Walk(s, [field, "from"], "/spec/strategy") is { } from && Text(from, "kind", $"{path}/kind") == "DockerImage")
            {
                images.Add(new CheckedImage(Text(from, "name", $"{path}/name") ?? "", $"{what} build strategy", $"{path}/name"));
            }
        }
    }

    /// <summary>The object at <paramref name="steps"/> below <paramref name="obj"/>; null when a step is missing, malformed when one is not an object.</summary>
    private static JsonElement? Walk(JsonElement obj, string[] steps, string at = "")
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
}
