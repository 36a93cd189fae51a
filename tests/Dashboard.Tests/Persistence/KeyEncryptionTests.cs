using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Dashboard.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Dashboard.Tests.Persistence;

/// <summary>
/// Issue 12, finding 8: with <c>Dashboard:DataProtection:CertificateFile</c> the Data Protection keys are written
/// encrypted with the certificate's key, and a restarted app reads them (and so the secrets they protect) back.
/// On SQLite the keys are files under the data directory; on PostgreSQL rows of DataProtectionKeys.
/// </summary>
public sealed class KeyEncryptionTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dashboard-keys-").FullName;
    private readonly TestDatabase _database = TestDatabase.Create();

    public Task InitializeAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=dashboard-keys", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        File.WriteAllText(Path.Combine(_directory, "keys.crt"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_directory, "keys.key"), key.ExportPkcs8PrivateKeyPem());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Hangfire may hold its file a moment longer.
        }
    }

    [Fact]
    public async Task Finding_8_keys_are_stored_encrypted_with_the_certificate_and_read_back_after_a_restart()
    {
        string session;
        await using (var first = new Factory(this))
        {
            using var browser = first.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
            var signIn = await SignInForm.PostAsync(browser, "admin", Factory.AdminPassword);
            session = signIn.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith("dashboard.session=", StringComparison.Ordinal));
        }

        var stored = await KeyRingTextAsync();
        Assert.Contains("EncryptedData", stored);
        Assert.DoesNotContain("<value>", stored);

        // The session cookie is protected by the key ring: a restarted app that reads the encrypted keys accepts it.
        await using var second = new Factory(this);
        using var again = second.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces");
        request.Headers.Add("Cookie", session);
        Assert.Equal(HttpStatusCode.OK, (await again.SendAsync(request)).StatusCode);
    }

    /// <summary>The key ring as stored: the XML files on SQLite, every table's text on PostgreSQL.</summary>
    private async Task<string> KeyRingTextAsync()
    {
        var keys = Path.Combine(_directory, "data", "keys");
        if (Directory.Exists(keys))
        {
            var text = new StringBuilder();
            foreach (var file in Directory.GetFiles(keys, "*.xml"))
            {
                text.Append(await File.ReadAllTextAsync(file));
            }

            return text.ToString();
        }

        return await _database.StoredTextAsync(Path.Combine(_directory, "data"));
    }

    private sealed class Factory(KeyEncryptionTests test) : WebApplicationFactory<Program>
    {
        public const string AdminPassword = "Admin-Passw0rd!-keys";

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Dashboard:DataDirectory", Path.Combine(test._directory, "data"));
            test._database.Configure(builder);
            builder.UseSetting("Dashboard:Bootstrap:AdminPassword", AdminPassword);
            builder.UseSetting("Dashboard:DataProtection:CertificateFile", Path.Combine(test._directory, "keys.crt"));
            builder.UseSetting("Dashboard:DataProtection:KeyFile", Path.Combine(test._directory, "keys.key"));
        }
    }
}
