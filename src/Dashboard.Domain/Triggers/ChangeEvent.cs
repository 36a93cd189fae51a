namespace Dashboard.Domain.Triggers;

/// <summary>A tag's new generation (<c>image.changed</c>): stored with the import that caused it, delivered to webhooks.</summary>
public sealed class ChangeEvent
{
    public const string ImageChanged = "image.changed";

    private ChangeEvent()
    {
        Type = Namespace = Stream = Tag = Image = DockerImageReference = "";
    }

    public ChangeEvent(DateTime occurredAt, int namespaceId, string @namespace, string stream, string tag, string image, string? previousImage,
        string dockerImageReference, long generation)
    {
        Type = ImageChanged;
        OccurredAt = occurredAt;
        NamespaceId = namespaceId;
        Namespace = @namespace;
        Stream = stream;
        Tag = tag;
        Image = image;
        PreviousImage = previousImage;
        DockerImageReference = dockerImageReference;
        Generation = generation;
    }

    public long Id { get; private set; }

    public string Type { get; private set; }

    public DateTime OccurredAt { get; private set; }

    public int NamespaceId { get; private set; }

    public string Namespace { get; private set; }

    public string Stream { get; private set; }

    public string Tag { get; private set; }

    public string Image { get; private set; }

    public string? PreviousImage { get; private set; }

    public string DockerImageReference { get; private set; }

    public long Generation { get; private set; }

    /// <summary>
    /// Folds a later generation of the same tag into this not-yet-delivered event: subscribers hear once, from the image
    /// before the first change to the image after the last.
    /// </summary>
    public void Absorb(string image, string dockerImageReference, long generation)
    {
        Image = image;
        DockerImageReference = dockerImageReference;
        Generation = generation;
    }

    /// <summary>The CloudEvents 1.0 document (structured JSON mode) a webhook receives.</summary>
    public object ToCloudEvent() => new Dictionary<string, object?>
    {
        ["specversion"] = "1.0",
        ["type"] = "dashboard." + Type,
        ["source"] = $"/namespaces/{Namespace}/imagestreams/{Stream}",
        ["subject"] = $"{Stream}:{Tag}",
        ["id"] = Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["time"] = OccurredAt,
        ["datacontenttype"] = "application/json",
        ["data"] = new
        {
            @namespace = Namespace,
            stream = Stream,
            tag = Tag,
            previousImage = PreviousImage,
            image = Image,
            dockerImageReference = DockerImageReference,
            generation = Generation,
        },
    };
}

/// <summary>The <c>Dashboard:Webhooks</c> settings.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Dashboard:Webhooks";

    /// <summary>Changes of one tag within this many seconds make one event (delivered once the window closes); 0 delivers each at once.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 3600)]
    public int CoalesceSeconds { get; set; } = 30;

    /// <summary>
    /// An event no delivery was attempted for this long after its window closed is queued again: the process that saved it
    /// died before queueing its delivery. Longer than any queue backlog, or a waiting delivery is sent twice (same event id).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(5, 24 * 3600)]
    public int LostAfterSeconds { get; set; } = 600;
}

/// <summary>A namespace's subscription to change events; the secret signs every delivery and is never shown again.</summary>
public sealed class Webhook
{
    public const int MaxUrlLength = 2000;

    private Webhook()
    {
        Name = Url = ProtectedSecret = "";
    }

    public Webhook(int namespaceId, string name, DateTime createdAt)
    {
        NamespaceId = namespaceId;
        Name = name;
        Url = ProtectedSecret = "";
        CreatedAt = createdAt;
    }

    public int Id { get; private set; }

    public int NamespaceId { get; private set; }

    public string Name { get; private set; }

    /// <summary>
    /// The URL as people see it: its user-info and query string, which often carry credentials, shown as <c>****</c>
    /// (<see cref="Redact"/>). Rows written before that was so may still hold the whole URL; readers redact it again.
    /// </summary>
    public string Url { get; private set; }

    /// <summary>The whole URL, protected like the secret, when it has user-info or a query string; null when <see cref="Url"/> is all of it.</summary>
    public string? ProtectedUrl { get; private set; }

    public string ProtectedSecret { get; private set; }

    /// <summary>Glob on the stream name (<c>*</c> any run of characters); null for every stream.</summary>
    public string? Streams { get; private set; }

    /// <summary>Glob on the tag; null for every tag.</summary>
    public string? Tags { get; private set; }

    public DateTime CreatedAt { get; private set; }

    public void Set(string url, string? protectedUrl, string protectedSecret, string? streams, string? tags)
    {
        Url = url;
        ProtectedUrl = protectedUrl;
        ProtectedSecret = protectedSecret;
        Streams = streams;
        Tags = tags;
    }

    public const string Redacted = "****";

    /// <summary>The URL without what may be a credential: user-info and query string become <see cref="Redacted"/>.</summary>
    public static string Redact(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return Redacted;
        }

        var userInfo = uri.UserInfo.Length > 0 ? Redacted + "@" : "";
        var query = uri.Query.Length > 1 ? "?" + Redacted : "";
        return $"{uri.Scheme}://{userInfo}{uri.Authority}{uri.AbsolutePath}{query}";
    }

    public bool Matches(ChangeEvent change) => Glob(Streams, change.Stream) && Glob(Tags, change.Tag);

    /// <summary>The longest stream or tag filter: with it, a match costs at most a value's length times this many steps.</summary>
    public const int MaxFilterLength = 200;

    private static bool Glob(string? pattern, string value) => pattern is null || Domain.Glob.Parse(pattern, questionMark: true).IsMatch(value);
}

/// <summary>One attempt to deliver an event to a webhook.</summary>
public sealed class WebhookDelivery
{
    private WebhookDelivery()
    {
        Result = "";
    }

    public WebhookDelivery(int webhookId, long eventId, DateTime at, int? statusCode, bool succeeded, string result, int durationMs)
    {
        WebhookId = webhookId;
        EventId = eventId;
        At = at;
        StatusCode = statusCode;
        Succeeded = succeeded;
        Result = result.Length <= 500 ? result : result[..499] + "…";
        DurationMs = durationMs;
    }

    public long Id { get; private set; }

    public int WebhookId { get; private set; }

    public long EventId { get; private set; }

    public DateTime At { get; private set; }

    public int? StatusCode { get; private set; }

    public bool Succeeded { get; private set; }

    public string Result { get; private set; }

    public int DurationMs { get; private set; }
}

/// <summary>Told after an import saved new change events; the host delivers them in the background.</summary>
public interface IChangeNotifier
{
    /// <summary>Queues the delivery of <paramref name="eventId"/> after <paramref name="delay"/> (the coalescing window).</summary>
    void Saved(long eventId, TimeSpan delay);
}

internal sealed class NoChangeNotifier : IChangeNotifier
{
    public void Saved(long eventId, TimeSpan delay)
    {
    }
}
