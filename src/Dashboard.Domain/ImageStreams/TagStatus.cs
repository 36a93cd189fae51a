namespace Dashboard.Domain.ImageStreams;

/// <summary>One entry of a tag's history: the image the tag pointed at from <see cref="Created"/> on.</summary>
public sealed class TagEvent
{
    private TagEvent()
    {
        Tag = "";
        DockerImageReference = "";
        Image = "";
    }

    internal TagEvent(string tag, DateTime created, string dockerImageReference, string image, long generation)
    {
        Tag = tag;
        Created = created;
        DockerImageReference = dockerImageReference;
        Image = image;
        Generation = generation;
    }

    public long Id { get; private set; }

    public int ImageStreamId { get; private set; }

    public string Tag { get; private set; }

    public DateTime Created { get; private set; }

    /// <summary>Where the image was pulled from, pinned by digest.</summary>
    public string DockerImageReference { get; private set; }

    /// <summary>The image's digest.</summary>
    public string Image { get; private set; }

    public long Generation { get; private set; }
}

/// <summary>The state of a tag's last import (OpenShift's <c>TagEventCondition</c>, type <c>ImportSuccess</c>).</summary>
public sealed class TagCondition
{
    public const string ImportSuccess = "ImportSuccess";

    private TagCondition()
    {
        Tag = "";
        Type = "";
        Status = "";
        Reason = "";
        Message = "";
    }

    internal TagCondition(string tag, string type)
    {
        Tag = tag;
        Type = type;
        Status = "";
        Reason = "";
        Message = "";
    }

    public long Id { get; private set; }

    public int ImageStreamId { get; private set; }

    public string Tag { get; private set; }

    public string Type { get; private set; }

    /// <summary><c>True</c>, <c>False</c> or <c>Unknown</c>, as in Kubernetes conditions.</summary>
    public string Status { get; private set; }

    public string Reason { get; private set; }

    public string Message { get; private set; }

    public DateTime LastTransitionTime { get; private set; }

    public long Generation { get; private set; }

    internal void Set(string status, string reason, string message, DateTime at, long generation)
    {
        if (status != Status)
        {
            LastTransitionTime = at;
        }

        Status = status;
        Reason = reason;
        Message = message;
        Generation = generation;
    }
}
