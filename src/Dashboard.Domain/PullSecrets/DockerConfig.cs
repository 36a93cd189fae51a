using System.Text;
using System.Text.Json;
using Dashboard.Domain.Registry;

namespace Dashboard.Domain.PullSecrets;

/// <summary>One registry login of a pull secret: the key as written (e.g. <c>https://index.docker.io/v1/</c>) and its credential.</summary>
public sealed record DockerConfigEntry(string Key, RegistryCredential Credential);

/// <summary>
/// Reads the documents Kubernetes pull secrets hold: <c>.dockerconfigjson</c> (<c>{"auths":{key:{auth|username+password}}}</c>)
/// and the legacy <c>.dockercfg</c> (<c>{key:{auth,…}}</c>). Errors name the entry and field that is wrong, never a secret.
/// </summary>
public static class DockerConfig
{
    public const int MaxDocumentLength = 64 * 1024;

    public static IReadOnlyList<DockerConfigEntry> Parse(string? document)
    {
        if (string.IsNullOrWhiteSpace(document))
        {
            throw Invalid("The document is empty.");
        }

        if (document.Length > MaxDocumentLength)
        {
            throw Invalid($"The document is longer than {MaxDocumentLength / 1024} KiB.");
        }

        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(document);
        }
        catch (JsonException e)
        {
            throw Invalid($"The document is not valid JSON: {e.Message}");
        }

        using (json)
        {
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("The document must be a JSON object.");
            }

            // .dockerconfigjson wraps the entries in "auths"; .dockercfg is the entries themselves.
            var entries = json.RootElement.TryGetProperty("auths", out var auths) ? auths : json.RootElement;
            if (entries.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("\"auths\" must be an object of registry entries.");
            }

            var result = entries.EnumerateObject().Select(entry => Entry(entry.Name, entry.Value)).ToList();
            if (result.Count == 0)
            {
                throw Invalid("The document has no registry entries.");
            }

            return result;
        }
    }

    /// <summary>The document for one login entered in a form.</summary>
    public static string FromLogin(string? registry, string? username, string? password)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(registry) || registry.Contains(' '))
        {
            errors["registry"] = ["A registry host is required, e.g. quay.io or registry.example.com:5000."];
        }

        if (string.IsNullOrWhiteSpace(username) || username.Contains(':'))
        {
            errors["username"] = ["A user name without ':' is required."];
        }

        if (string.IsNullOrEmpty(password))
        {
            errors["password"] = ["A password or token is required."];
        }

        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }

        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["auths"] = new Dictionary<string, object> { [registry!.Trim()] = new { username = username!.Trim(), password } },
        });
    }

    private static DockerConfigEntry Entry(string key, JsonElement value)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            throw Invalid("An entry has an empty registry key.");
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"The entry for '{key}' must be an object.");
        }

        string? username = Text(value, "username");
        string? password = Text(value, "password");
        if (Text(value, "auth") is { Length: > 0 } auth)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
            }
            catch (FormatException)
            {
                throw Invalid($"The \"auth\" of '{key}' is not base64.");
            }

            var colon = decoded.IndexOf(':');
            if (colon <= 0)
            {
                throw Invalid($"The \"auth\" of '{key}' must encode username:password.");
            }

            username = decoded[..colon];
            password = decoded[(colon + 1)..];
        }

        if (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password))
        {
            throw Invalid($"The entry for '{key}' needs \"auth\", or \"username\" and \"password\".");
        }

        return new DockerConfigEntry(key.Trim(), new RegistryCredential(username, password));
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static ValidationFailedException Invalid(string message) => new("dockerConfigJson", message);
}
