namespace Dashboard.Domain.Namespaces;

/// <summary>A named group of image streams, pull secrets and members, like a Kubernetes namespace.</summary>
public sealed class Namespace
{
    private Namespace()
    {
        Name = "";
    }

    public Namespace(string name, DateTime createdAt)
    {
        Name = name;
        CreatedAt = createdAt;
    }

    public int Id { get; private set; }

    public string Name { get; private set; }

    public DateTime CreatedAt { get; private set; }

    /// <summary>
    /// Whether anyone may pull this namespace's images through the dashboard's registry without logging in (off unless
    /// an admin turns it on). It opens pulls only: the console and the API still need a member or an admin.
    /// </summary>
    public bool AnonymousPull { get; set; }

    /// <summary>
    /// Whether this namespace's streams resolve image references for every namespace of the cluster (OpenShift's shared
    /// <c>openshift</c> namespace): admission pins and policy facts look at the Pod's own namespace, then at shared ones,
    /// never at others. Off unless an admin turns it on.
    /// </summary>
    public bool Shared { get; set; }
}

/// <summary>What a member may do in a namespace. Admins may do everything everywhere without a membership.</summary>
public enum NamespaceRole
{
    /// <summary>Reads the namespace's image streams, images and events.</summary>
    Viewer,

    /// <summary>Reads, and changes the namespace's image streams, tags, pull secrets and webhooks.</summary>
    Editor,
}

public sealed class NamespaceMembership
{
    private NamespaceMembership()
    {
        UserId = "";
    }

    public NamespaceMembership(int namespaceId, string userId, NamespaceRole role)
    {
        NamespaceId = namespaceId;
        UserId = userId;
        Role = role;
    }

    public int NamespaceId { get; private set; }

    public Namespace Namespace { get; private set; } = null!;

    public string UserId { get; private set; }

    public NamespaceRole Role { get; set; }
}
