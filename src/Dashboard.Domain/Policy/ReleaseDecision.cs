namespace Dashboard.Domain.Policy;

/// <summary>How the policy answers one object of a release: its kind, name and namespace, and the decision on its images.</summary>
/// <param name="Kind">Null for image references asked about without an object (the console's "try it").</param>
/// <param name="Images">How many images the object names; an object with none is allowed with no findings.</param>
public sealed record ObjectDecision(string? Kind, string? Name, string Namespace, string Resource, int Images, PolicyDecision Decision);

/// <summary>A whole release (a Helm template's output, a kustomize build) judged object by object; allowed when every object is.</summary>
public sealed record ReleaseDecision(IReadOnlyList<ObjectDecision> Objects)
{
    public bool Allowed => Objects.All(o => o.Decision.Allowed);
}
