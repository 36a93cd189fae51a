using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dashboard.Domain.Signatures;
using Dashboard.Tests.Admission;
using Dashboard.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Signatures;

/// <summary>
/// Cosign signatures made with openssl (<see cref="CosignSigner"/>) and pushed to a real docker-registry, found and verified
/// when the dashboard imports, kept per image digest and shown by the image API; the trusted keys API; re-verification
/// after a key change.
/// </summary>
public sealed class SignatureImportTests(DashboardFactory app) : IClassFixture<DashboardFactory>, IAsyncLifetime
{
    private RegistryServer _registry = null!;
    private CosignSigner _release = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync();
        _release = await CosignSigner.CreateAsync();
        await PutKeyAsync("release", _release);
    }

    public async Task DisposeAsync()
    {
        using var admin = app.AsAdmin();
        await admin.PutAsJsonAsync("/api/v1/policy/rules", Array.Empty<object>());
        _release.Dispose();
        await _registry.DisposeAsync();
    }

    private async Task PutKeyAsync(string name, CosignSigner signer)
    {
        using var admin = app.AsAdmin();
        var put = await admin.PutAsJsonAsync($"/api/v1/policy/keys/{name}", new { publicKey = signer.PublicKeyPem, description = $"{name} key" });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        await Reverification.Running;
    }

    private SignatureReverification Reverification => app.Services.GetRequiredService<SignatureReverification>();

    /// <summary>Tags <paramref name="repository"/>:<paramref name="tag"/> of the test registry into a new stream and imports it (the PUT imports).</summary>
    private async Task<JsonElement> ImportAsync(string ns, string repository, string tag, string importMode = "Legacy")
    {
        await app.CreateNamespaceAsync(ns, "app");
        using var admin = app.AsAdmin();
        var put = await admin.PutAsJsonAsync($"/api/v1/namespaces/{ns}/imagestreams/app/tags/{tag}",
            new { from = new { kind = "DockerImage", name = $"{_registry.Host}/{repository}:{tag}" }, insecure = true, importMode });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        return await put.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<JsonElement> ImageAsync(string digest)
    {
        using var admin = app.AsAdmin();
        return await admin.GetFromJsonAsync<JsonElement>($"/api/v1/images/{digest}");
    }

    private static IReadOnlyList<(string? Key, bool Verified, string Reason)> Signatures(JsonElement image) =>
        [.. image.GetProperty("signatures").EnumerateArray().Select(s =>
            (s.GetProperty("key").GetString(), s.GetProperty("verified").GetBoolean(), s.GetProperty("reason").GetString()!))];

    private static void LookedAtWithoutSignatures(JsonElement image)
    {
        Assert.Empty(Signatures(image));
        Assert.NotEqual(JsonValueKind.Null, image.GetProperty("signaturesCheckedAt").ValueKind);
    }

    [Fact]
    public async Task A_signature_by_a_trusted_key_is_verified_at_import_and_shown_on_the_image()
    {
        var pushed = await ImagePusher.PushImageAsync(_registry, "signed/app", "1");
        await _release.SignAndPushAsync(_registry, "signed/app", pushed.Digest);

        await ImportAsync("sig-valid", "signed/app", "1");

        var image = await ImageAsync(pushed.Digest);
        var signature = Assert.Single(image.GetProperty("signatures").EnumerateArray());
        Assert.Equal("release", signature.GetProperty("key").GetString());
        Assert.True(signature.GetProperty("verified").GetBoolean());
        Assert.Equal($"{_registry.Host}/signed/app", signature.GetProperty("identity").GetString());
        Assert.NotEqual(JsonValueKind.Null, image.GetProperty("signaturesCheckedAt").ValueKind);
    }

    [Fact]
    public async Task An_image_without_signatures_was_looked_at_and_has_none()
    {
        var pushed = await ImagePusher.PushImageAsync(_registry, "plain/app", "1");

        await ImportAsync("sig-none", "plain/app", "1");

        LookedAtWithoutSignatures(await ImageAsync(pushed.Digest));
    }

    [Fact]
    public async Task Signatures_that_do_not_hold_say_why_and_verify_nothing()
    {
        using var stranger = await CosignSigner.CreateAsync();
        var pushed = await ImagePusher.PushImageAsync(_registry, "forged/app", "1");
        var other = await ImagePusher.PushImageAsync(_registry, "forged/app", "other");
        var wrongKey = await stranger.SignAsync(pushed.Digest, $"{_registry.Host}/forged/app");
        var otherDigest = await _release.SignAsync(other.Digest, $"{_registry.Host}/forged/app");
        var otherRepository = await _release.SignAsync(pushed.Digest, $"{_registry.Host}/elsewhere/app");
        var tampered = (await _release.SignAsync(pushed.Digest, $"{_registry.Host}/forged/app")).Tampered();
        await CosignSigner.PushAsync(_registry, "forged/app", pushed.Digest, wrongKey, otherDigest, otherRepository, tampered);

        await ImportAsync("sig-forged", "forged/app", "1");

        var signatures = Signatures(await ImageAsync(pushed.Digest));
        Assert.Equal(4, signatures.Count);
        Assert.All(signatures, s => Assert.False(s.Verified));
        Assert.All(signatures, s => Assert.Null(s.Key));
        Assert.Contains("no trusted key verifies it", signatures[0].Reason);
        Assert.Contains($"signs another image ({other.Digest})", signatures[1].Reason);
        Assert.Contains($"names repository '{_registry.Host}/elsewhere/app'", signatures[2].Reason);
        Assert.Contains("no trusted key verifies it", signatures[3].Reason);
    }

    [Fact]
    public async Task A_payload_over_its_bound_is_not_read_and_the_import_goes_on()
    {
        var pushed = await ImagePusher.PushImageAsync(_registry, "huge/app", "1");
        var huge = new CosignLayer(System.Text.Encoding.UTF8.GetBytes(new string(' ', CosignSignature.MaxPayloadBytes + 1)), "AA==");
        await CosignSigner.PushAsync(_registry, "huge/app", pushed.Digest, huge);
        var requests = _registry.Requests.Count;

        var imported = await ImportAsync("sig-huge", "huge/app", "1");

        Assert.Equal(pushed.Digest, imported.GetProperty("items")[0].GetProperty("image").GetString());
        Assert.Contains("larger than 16 KiB", Signatures(await ImageAsync(pushed.Digest)).Single().Reason);
        Assert.DoesNotContain(_registry.Requests.Skip(requests), r => r.Contains($"/blobs/{ImagePusher.Sha(huge.Payload)}"));
    }

    [Fact]
    public async Task Of_two_signatures_the_one_by_a_trusted_key_verifies()
    {
        using var stranger = await CosignSigner.CreateAsync();
        var pushed = await ImagePusher.PushImageAsync(_registry, "twice/app", "1");
        var reference = $"{_registry.Host}/twice/app";
        await CosignSigner.PushAsync(_registry, "twice/app", pushed.Digest, await stranger.SignAsync(pushed.Digest, reference),
            await _release.SignAsync(pushed.Digest, reference));

        await ImportAsync("sig-twice", "twice/app", "1");

        Assert.Equal([(null, false), ("release", true)], Signatures(await ImageAsync(pushed.Digest)).Select(s => (s.Key, s.Verified)));
    }

    [Theory]
    [InlineData(SigningKey.Rsa2048, "RSA 2048")]
    [InlineData(SigningKey.Ed25519, "Ed25519")]
    public async Task Rsa_and_ed25519_keys_verify_too(SigningKey kind, string algorithm)
    {
        using var signer = await CosignSigner.CreateAsync(kind);
        var name = kind == SigningKey.Rsa2048 ? "rsa-key" : "ed-key";
        using var admin = app.AsAdmin();
        var put = await admin.PutAsJsonAsync($"/api/v1/policy/keys/{name}", new { publicKey = signer.PublicKeyPem });
        Assert.Equal(algorithm, (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("algorithm").GetString());
        var repository = $"algo/{name}";
        var pushed = await ImagePusher.PushImageAsync(_registry, repository, "1");
        await signer.SignAndPushAsync(_registry, repository, pushed.Digest);

        await ImportAsync($"sig-{name}", repository, "1");

        Assert.Equal((name, true), Signatures(await ImageAsync(pushed.Digest)).Select(s => (s.Key, s.Verified)).Single());
    }

    [Fact]
    public async Task The_platform_images_of_a_list_have_their_signatures_checked_too()
    {
        var (index, amd64, arm64) = await ImagePusher.PushIndexAsync(_registry, "multi/app", "1");
        await _release.SignAndPushAsync(_registry, "multi/app", amd64.Digest);
        await _release.SignAndPushAsync(_registry, "multi/app", arm64.Digest);

        await ImportAsync("sig-list", "multi/app", "1", importMode: "PreserveOriginal");

        Assert.Equal("release", Signatures(await ImageAsync(amd64.Digest)).Single().Key);
        Assert.Equal("release", Signatures(await ImageAsync(arm64.Digest)).Single().Key);
        LookedAtWithoutSignatures(await ImageAsync(index.Digest));
    }

    [Fact]
    public async Task A_repository_import_takes_the_images_and_their_signatures_not_the_signature_tags()
    {
        var pushed = await ImagePusher.PushImageAsync(_registry, "repo/app", "1");
        await _release.SignAndPushAsync(_registry, "repo/app", pushed.Digest);
        await app.CreateNamespaceAsync("sig-repo", "app");
        using var admin = app.AsAdmin();

        var import = await admin.PostAsJsonAsync("/api/v1/namespaces/sig-repo/imagestreams/app/import",
            new { from = $"{_registry.Host}/repo/app", insecure = true });

        var result = await import.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["1"], result.GetProperty("imported").EnumerateArray().Select(t => t.GetProperty("tag").GetString()));
        Assert.Empty(result.GetProperty("additionalTags").EnumerateArray());
        Assert.Equal("release", Signatures(await ImageAsync(pushed.Digest)).Single().Key);
    }

    [Fact]
    public async Task A_key_removed_and_added_again_re_verifies_the_stored_signatures_without_the_registry()
    {
        using var rotating = await CosignSigner.CreateAsync();
        await PutKeyAsync("rotating", rotating);
        var pushed = await ImagePusher.PushImageAsync(_registry, "rotate/app", "1");
        await rotating.SignAndPushAsync(_registry, "rotate/app", pushed.Digest);
        await ImportAsync("sig-rotate", "rotate/app", "1");
        Assert.Equal("rotating", Signatures(await ImageAsync(pushed.Digest)).Single().Key);
        var requests = _registry.Requests.Count;

        using var admin = app.AsAdmin();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/policy/keys/rotating")).StatusCode);
        await Reverification.Running;
        var removed = Signatures(await ImageAsync(pushed.Digest)).Single();
        Assert.Equal((null, false), (removed.Key, removed.Verified));

        await PutKeyAsync("rotating", rotating);
        Assert.Equal(("rotating", true), Signatures(await ImageAsync(pushed.Digest)).Select(s => (s.Key, s.Verified)).Single());
        Assert.Equal(requests, _registry.Requests.Count);
    }

    [Fact]
    public async Task Admission_denies_an_unsigned_image_under_signed_by_and_allows_the_signed_one_from_facts_alone()
    {
        var signed = await ImagePusher.PushImageAsync(_registry, "admit/signed", "1");
        await ImagePusher.PushImageAsync(_registry, "admit/unsigned", "2");
        await _release.SignAndPushAsync(_registry, "admit/signed", signed.Digest);
        await ImportAsync("sig-admit", "admit/signed", "1");
        await ImportAsync("sig-admit", "admit/unsigned", "2");
        using var admin = app.AsAdmin();
        var rules = await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[]
        {
            new { name = "signed-only", action = "Allow", resources = new[] { "pods" }, signedBy = new[] { "release" }, description = "Run signed images only." },
        });
        Assert.True(rules.IsSuccessStatusCode, await rules.Content.ReadAsStringAsync());
        var requests = _registry.Requests.Count;
        using var cluster = app.Cluster();

        var denied = await AdmitAsync(cluster, $"{_registry.Host}/admit/unsigned:2");
        var allowed = await AdmitAsync(cluster, $"{_registry.Host}/admit/signed:1");
        var byDigest = await AdmitAsync(cluster, $"{_registry.Host}/admit/signed@{signed.Digest}");

        Assert.False(denied.GetProperty("allowed").GetBoolean());
        Assert.Contains("signed-only", denied.GetProperty("status").GetProperty("message").GetString());
        Assert.True(allowed.GetProperty("allowed").GetBoolean(), allowed.ToString());
        Assert.True(byDigest.GetProperty("allowed").GetBoolean(), byDigest.ToString());
        Assert.Equal(requests, _registry.Requests.Count);

        var evaluated = await admin.PostAsJsonAsync("/api/v1/policy/evaluate",
            new { @namespace = "sig-admit", images = new[] { $"{_registry.Host}/admit/signed:1" } });
        var trace = (await evaluated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("trace");
        Assert.Contains(trace.EnumerateArray(), t => t.GetProperty("outcome").GetString() == "allows: signed by release");
    }

    private static async Task<JsonElement> AdmitAsync(HttpClient cluster, string image, string ns = "sig-admit")
    {
        var review = AdmissionReviewTests.Review("Pod", $$$"""{"metadata":{"name":"p","namespace":"{{{ns}}}"},"spec":{"containers":[{"name":"app","image":"{{{image}}}"}]}}""",
            group: "", @namespace: ns);
        var answer = await cluster.PostAsync("/admission/validate", new StringContent(review, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("response");
    }

    [Fact]
    public async Task Importing_the_same_image_from_an_unsigned_repository_into_another_namespace_does_not_unsign_it_for_the_first()
    {
        var signed = await ImagePusher.PushImageAsync(_registry, "cross/signed", "1");
        await _release.SignAndPushAsync(_registry, "cross/signed", signed.Digest);
        // The same manifest, byte for byte, in a repository that has no signature of it.
        var copy = await Command.RunAsync("skopeo", ["copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
            $"docker://{_registry.Host}/cross/signed:1", $"docker://{_registry.Host}/cross/copy:1"]);
        Assert.True(copy.Succeeded, copy.ToString());
        await ImportAsync("sig-cross-a", "cross/signed", "1");
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[]
        {
            new { name = "signed-only", action = "Allow", resources = new[] { "pods" }, signedBy = new[] { "release" } },
        })).EnsureSuccessStatusCode();
        using var cluster = app.Cluster();
        Assert.True((await AdmitAsync(cluster, $"{_registry.Host}/cross/signed@{signed.Digest}", "sig-cross-a")).GetProperty("allowed").GetBoolean());

        // Another namespace's member imports the same digest from the unsigned copy: a later look, from elsewhere, that
        // finds nothing. It counts for that namespace, not for the first one.
        await ImportAsync("sig-cross-b", "cross/copy", "1");

        Assert.True((await AdmitAsync(cluster, $"{_registry.Host}/cross/signed@{signed.Digest}", "sig-cross-a")).GetProperty("allowed").GetBoolean());
        Assert.True((await AdmitAsync(cluster, $"{_registry.Host}/cross/signed:1", "sig-cross-a")).GetProperty("allowed").GetBoolean());
        Assert.False((await AdmitAsync(cluster, $"{_registry.Host}/cross/copy@{signed.Digest}", "sig-cross-b")).GetProperty("allowed").GetBoolean());
        Assert.False((await AdmitAsync(cluster, $"{_registry.Host}/cross/copy:1", "sig-cross-b")).GetProperty("allowed").GetBoolean());
        // The image shows both looks, each with where it was made.
        var image = await ImageAsync(signed.Digest);
        var found = image.GetProperty("signatures").EnumerateArray().Single();
        Assert.Equal(("release", $"{_registry.Host}/cross/signed"), (found.GetProperty("key").GetString(), found.GetProperty("repository").GetString()));
    }

    [Fact]
    public async Task An_import_refused_by_a_signed_by_rule_records_nothing_and_fails_forbidden_naming_the_rule()
    {
        var unsigned = await ImagePusher.PushImageAsync(_registry, "gate/unsigned", "1");
        var signed = await ImagePusher.PushImageAsync(_registry, "gate/signed", "1");
        await _release.SignAndPushAsync(_registry, "gate/signed", signed.Digest);
        using var admin = app.AsAdmin();
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[]
        {
            new { name = "import-signed", action = "Allow", resources = new[] { "imports" }, signedBy = new[] { "release" } },
        })).EnsureSuccessStatusCode();
        try
        {
            var refused = await ImportAsync("sig-gate", "gate/unsigned", "1");
            var accepted = await ImportAsync("sig-gate2", "gate/signed", "1");

            var condition = refused.GetProperty("conditions")[0];
            Assert.Equal(("False", "Forbidden"), (condition.GetProperty("status").GetString(), condition.GetProperty("reason").GetString()));
            Assert.Contains("import-signed", condition.GetProperty("message").GetString());
            Assert.Empty(refused.GetProperty("items").EnumerateArray());
            Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/images/{unsigned.Digest}")).StatusCode);
            Assert.Equal(signed.Digest, accepted.GetProperty("items")[0].GetProperty("image").GetString());
        }
        finally
        {
            await admin.PutAsJsonAsync("/api/v1/policy/rules", Array.Empty<object>());
        }
    }

    [Fact]
    public async Task The_keys_api_refuses_bad_pem_naming_the_field_a_key_a_rule_names_and_non_admins()
    {
        using var admin = app.AsAdmin();
        var bad = await admin.PutAsJsonAsync("/api/v1/policy/keys/broken", new { publicKey = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await Problem.ReadAsync(bad)).GetProperty("errors").TryGetProperty("publicKey", out _));
        var notPem = await admin.PutAsJsonAsync("/api/v1/policy/keys/broken", new { publicKey = "ssh-ed25519 AAAA" });
        Assert.Equal(HttpStatusCode.BadRequest, notPem.StatusCode);
        foreach (var body in new[] { "null", "{\"publicKey\":5}", "{" })
        {
            var malformed = await admin.PutAsync("/api/v1/policy/keys/broken", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        }

        var badName = await admin.PutAsJsonAsync("/api/v1/policy/keys/Not_A_Label", new { publicKey = _release.PublicKeyPem });
        Assert.True((await Problem.ReadAsync(badName)).GetProperty("errors").TryGetProperty("name", out _));

        using var kept = await CosignSigner.CreateAsync();
        await PutKeyAsync("kept", kept);
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[]
        {
            new { name = "needs-kept", action = "Allow", resources = new[] { "builds" }, signedBy = new[] { "kept" } },
        })).EnsureSuccessStatusCode();
        var unknown = await admin.PutAsJsonAsync("/api/v1/policy/rules", new object[] { new { name = "typo", signedBy = new[] { "kep" } } });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("There is no trusted key named 'kep'", await unknown.Content.ReadAsStringAsync());

        var conflict = await admin.DeleteAsync("/api/v1/policy/keys/kept");
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Contains("'needs-kept'", (await Problem.ReadAsync(conflict)).GetProperty("detail").GetString());
        (await admin.PutAsJsonAsync("/api/v1/policy/rules", Array.Empty<object>())).EnsureSuccessStatusCode();

        await app.CreateUserAsync("key-viewer");
        using var user = app.As("key-viewer", DashboardFactory.UserPassword);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/api/v1/policy/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.PutAsJsonAsync("/api/v1/policy/keys/mine", new { publicKey = kept.PublicKeyPem })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.DeleteAsync("/api/v1/policy/keys/kept")).StatusCode);

        var listed = await admin.GetFromJsonAsync<JsonElement>("/api/v1/policy/keys");
        Assert.Contains(listed.EnumerateArray(), k => k.GetProperty("name").GetString() == "kept" && k.GetProperty("algorithm").GetString() == "ECDSA P-256");
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/policy/keys/kept")).StatusCode);
    }
}
