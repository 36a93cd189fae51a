using System.Security.Claims;
using Dashboard.Domain.Images;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Dashboard.Api;

public sealed record LayerDto(string Digest, long Size, string MediaType);

public sealed record ImageConfigDto(DateTime? Created, string? Architecture, string? Os, string? Variant, IReadOnlyDictionary<string, string> Labels);

public sealed record PlatformDto(string Architecture, string Os, string? Variant);

public sealed record ChildManifestDto(string Digest, string MediaType, long Size, PlatformDto Platform);

public sealed record ImageUseDto(string Namespace, string Stream, string Tag, bool Current);

/// <summary>
/// One cosign signature found for the image: <c>key</c> is the trusted key that verified it, null when none did
/// (<c>reason</c> says why); <c>repository</c> is where it was looked for (the source a stream imported the image from).
/// </summary>
public sealed record SignatureDto(string? Key, string? Identity, bool Verified, string Reason, DateTime CheckedAt, string Repository);

public sealed record ImageDto(string Digest, string DockerImageReference, string MediaType, long Size, IReadOnlyList<LayerDto> Layers,
    ImageConfigDto Config, IReadOnlyList<ChildManifestDto> Manifests, IReadOnlyDictionary<string, string> Annotations, IReadOnlyList<ImageUseDto>? UsedBy,
    IReadOnlyList<SignatureDto> Signatures, DateTime? SignaturesCheckedAt)
{
    public static ImageDto From(ImageDetails details)
    {
        var (i, uses, signatures) = (details.Image, details.UsedBy, details.Signatures);
        return new(
            i.Digest, i.DockerImageReference, i.MediaType, i.Size,
            [.. i.Layers.Select(l => new LayerDto(l.Digest, l.Size, l.MediaType))],
            new ImageConfigDto(i.Config.Created, i.Config.Architecture, i.Config.Os, i.Config.Variant, i.Config.Labels),
            [.. i.Manifests.Select(m => new ChildManifestDto(m.Digest, m.MediaType, m.Size, new PlatformDto(m.Platform.Architecture, m.Platform.Os, m.Platform.Variant)))],
            i.Annotations,
            uses.Select(u => new ImageUseDto(u.Namespace, u.Stream, u.Tag, u.Current)).ToList(),
            [.. (signatures ?? []).SelectMany(r => r.Signatures.Select(s => new SignatureDto(s.Key, s.Identity, s.Verified, s.Reason, r.CheckedAt, r.Repository)))],
            signatures is { Count: > 0 } ? signatures.Max(r => r.CheckedAt) : null);
    }
}

internal static class ImagesApi
{
    public static void MapImagesApi(this RouteGroupBuilder api)
    {
        var images = api.MapGroup("/images").WithTags("Images");
        images.MapGet("/{digest}", Get).ProducesValidationProblem();
        images.MapPut("/{digest}/annotations", SetAnnotations).RequireAuthorization(SignInAndRolesExtensions.AdminPolicy).ProducesValidationProblem();
    }

    private static async Task<Ok<ImageDto>> Get(string digest, ImageCatalog catalog, ClaimsPrincipal user, CancellationToken ct)
    {
        var details = await catalog.GetAsync(user.ToCaller(), digest, ct);
        return TypedResults.Ok(ImageDto.From(details));
    }

    private static async Task<Ok<ImageDto>> SetAnnotations(string digest, Dictionary<string, string> annotations, ImageCatalog catalog,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var caller = user.ToCaller();
        await catalog.SetAnnotationsAsync(caller, digest, annotations, ct);
        var details = await catalog.GetAsync(caller, digest, ct);
        return TypedResults.Ok(ImageDto.From(details));
    }
}
