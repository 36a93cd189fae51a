namespace Dashboard.Domain.PullSecrets;

/// <summary>Encrypts secrets before they reach the database (the host implements it with ASP.NET Core Data Protection).</summary>
public interface ISecretProtector
{
    string Protect(string plaintext);

    /// <exception cref="System.Security.Cryptography.CryptographicException">The keys that protected it are gone.</exception>
    string Unprotect(string protectedText);
}

/// <summary>What may be shown of a pull secret entry: never its password.</summary>
public sealed record PullSecretEntry(string Registry, string Username);

/// <summary>A namespace's registry logins, as a Kubernetes <c>kubernetes.io/dockerconfigjson</c> secret holds them.</summary>
public sealed class PullSecret
{
    public const int MaxNameLength = 253;

    private PullSecret()
    {
        Name = "";
        ProtectedDocument = "";
    }

    public PullSecret(int namespaceId, string name, string protectedDocument, IReadOnlyList<PullSecretEntry> entries, DateTime createdAt)
    {
        NamespaceId = namespaceId;
        Name = name;
        ProtectedDocument = protectedDocument;
        Entries = entries;
        CreatedAt = createdAt;
    }

    public int Id { get; private set; }

    public int NamespaceId { get; private set; }

    public string Name { get; private set; }

    /// <summary>The whole document, encrypted; only the importer reads it back.</summary>
    public string ProtectedDocument { get; private set; }

    public IReadOnlyList<PullSecretEntry> Entries { get; private set; } = [];

    public DateTime CreatedAt { get; private set; }

    public DateTime? LastUsedAt { get; private set; }

    /// <summary>What happened the last time the secret was used, e.g. "accepted by quay.io" or "refused by quay.io".</summary>
    public string? LastResult { get; private set; }

    public void Replace(string protectedDocument, IReadOnlyList<PullSecretEntry> entries)
    {
        ProtectedDocument = protectedDocument;
        Entries = entries;
        LastResult = null;
    }

    public void RecordUse(DateTime at, string result)
    {
        LastUsedAt = at;
        LastResult = result;
    }
}
