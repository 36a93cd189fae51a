using System.Security.Cryptography;
using Bunit;
using Dashboard.Components.Pages;
using Dashboard.Domain.Access;
using Dashboard.Domain.Images;
using Dashboard.Domain.ImageStreams;
using Dashboard.Domain.Namespaces;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.Policy;
using Dashboard.Domain.Signatures;
using Dashboard.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Dashboard.Tests.Components;

/// <summary>The console's side of signatures: the Trusted keys page, the image's signatures, the stream's "signed by" badges and filter.</summary>
public sealed class SignaturePagesTests : ConsoleContext
{
    private static string Pem()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return ecdsa.ExportSubjectPublicKeyInfoPem();
    }

    [Fact]
    public async Task An_admin_adds_a_key_sees_a_bad_pem_named_and_is_told_which_rules_keep_a_key_from_deletion()
    {
        await SignInAsync("admin", admin: true);
        var dialogs = Render<MudDialogProvider>();
        var snackbar = Render<MudSnackbarProvider>();
        var page = Render<TrustedKeys>();
        page.WaitForAssertion(() => Assert.Contains("No trusted keys", page.Markup));

        page.Find("button:contains('Add key')").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Public key (PEM)", dialogs.Markup));
        dialogs.Find(".mud-dialog input").Input("release");
        dialogs.Find(".mud-dialog textarea").Input("not a key");
        dialogs.Find(".mud-dialog button:contains('Save')").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Not a PEM public key", dialogs.Markup));

        dialogs.Find(".mud-dialog textarea").Input(Pem());
        dialogs.Find(".mud-dialog button:contains('Save')").Click();
        page.WaitForAssertion(() => Assert.Contains(page.FindAll("td"), td => td.TextContent.Contains("ECDSA P-256")));

        await Services.GetRequiredService<PolicyStore>().PutRulesAsync(Caller.System,
            [new PolicyRule { Name = "signed-only", Action = RuleAction.Allow, SignedBy = ["release"] }]);
        page.Find("button[aria-label='Delete key release']").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Delete trusted key release?", dialogs.Markup));
        dialogs.Find(".mud-dialog button:contains('Delete')").Click();
        snackbar.WaitForAssertion(() => Assert.Contains("named by policy rule 'signed-only'", snackbar.Markup));
        Assert.Single(await Services.GetRequiredService<TrustedKeyStore>().ListAsync(Caller.System));
    }

    [Fact]
    public async Task The_try_it_panel_says_which_key_signed_the_image()
    {
        var admin = await SignInAsync("admin", admin: true);
        await Services.GetRequiredService<TrustedKeyStore>().PutAsync(admin, "release", Pem(), null);
        await SeedSignedAsync("team-t", TestImages.Sample("tried"));
        await Services.GetRequiredService<PolicyStore>().PutRulesAsync(admin,
            [new PolicyRule { Name = "signed-only", Action = RuleAction.Allow, SignedBy = ["release"] }]);
        var panel = Render<Dashboard.Components.Policy.TryItPanel>();

        panel.Find("input").Change("team-t");
        panel.Find("textarea").Change("quay.io/org/app:1.0");
        panel.Find("button:contains('Evaluate')").Click();

        panel.WaitForAssertion(() => Assert.Contains("Allowed for pods", panel.Markup));
        Assert.Contains(panel.FindAll("[aria-label='Trace'] td"), td => td.TextContent == "allows: signed by release");
    }

    /// <summary>A stream tag 1.0 in <paramref name="ns"/> whose image a trusted key "release" verified (and one signature it did not).</summary>
    private async Task SeedSignedAsync(string ns, Image image)
    {
        var streams = Services.GetRequiredService<ImageStreamService>();
        await Services.GetRequiredService<NamespaceService>().CreateAsync(Caller.System, ns);
        await streams.CreateAsync(Caller.System, ns, "app");
        await streams.SetTagAsync(Caller.System, ns, "app", new TagSpec("1.0", TagSourceKind.DockerImage, "quay.io/org/app:1.0"));
        await streams.RecordImportAsync(Caller.System, ns, "app", "1.0", image);
        await using var db = await Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync();
        db.ImageSignatures.Add(new ImageSignatures(Digest.Parse(image.Digest), ImageReference.Parse("quay.io/org/app:1.0"),
        [
            new StoredSignature("quay.io/org/app", "e30=", "AA==", "release", true, "verified by release"),
            new StoredSignature("quay.io/org/app", "e30=", "AA==", null, false, "no trusted key verifies it"),
        ], DateTime.UtcNow));
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task The_stream_shows_which_key_signed_each_tag_filters_to_unsigned_ones_and_the_image_lists_its_signatures()
    {
        var viewer = await SignInAsync("viewer");
        var signed = TestImages.Sample("signed");
        await SeedSignedAsync("team-s", signed);
        var streams = Services.GetRequiredService<ImageStreamService>();
        await streams.SetTagAsync(Caller.System, "team-s", "app", new TagSpec("2.0", TagSourceKind.DockerImage, "quay.io/org/app:2.0"));
        await streams.RecordImportAsync(Caller.System, "team-s", "app", "2.0", TestImages.Sample("unsigned"));
        await using (var db = await Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync())
        {
            db.Memberships.Add(new NamespaceMembership(db.Namespaces.Single(n => n.Name == "team-s").Id, viewer.UserId, NamespaceRole.Viewer));
            await db.SaveChangesAsync();
        }

        var page = Render<ImageStreamDetail>(p => p.Add(c => c.Namespace, "team-s").Add(c => c.Name, "app"));
        IReadOnlyList<string> Listed() => [.. page.FindAll("[data-testid=tags] tbody tr td:first-child").Select(td => td.TextContent.Trim())];
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[aria-label='Signed by release']")));
        Assert.Equal(["2.0", "1.0"], Listed());
        page.Find("input[aria-label='Only unsigned tags']").Change(true);
        page.WaitForAssertion(() => Assert.Equal(["2.0"], Listed()));

        var image = Render<ImageDetail>(p => p.Add(c => c.Digest, signed.Digest));
        image.WaitForAssertion(() => Assert.Contains("verified by release", image.Markup));
        Assert.Contains("no trusted key verifies it", image.Markup);
        Assert.Contains("not verified", image.Markup);
    }
}
