using LatentIndigo.Diffusion.Architecture;

namespace LatentIndigo.Diffusion.Import;

/// <summary>The architecture of one Stable Diffusion 1.x/2.x model: its three networks and what the export configs need.</summary>
/// <param name="Unet">The UNet.</param>
/// <param name="Vae">The VAE.</param>
/// <param name="Text">The text encoder (its width is the UNet's cross-attention width).</param>
internal sealed record SdModelDescription(SdUnetConfig Unet, SdVaeConfig Vae, ClipTextConfig Text)
{
    /// <summary>The UNet's native latent size (unet/config.json <c>sample_size</c>; 64 for 512-pixel models, 96 for 768).</summary>
    public int SampleSize { get; init; } = 64;

    /// <summary>The VAE's latent scaling factor (vae/config.json <c>scaling_factor</c>; SD 1.x/2.x: 0.18215).</summary>
    public double ScalingFactor { get; init; } = 0.18215;

    /// <summary>
    /// "SD 2.x" for an OpenCLIP-style text encoder (exact GELU; SD 2.x's ViT-H as diffusers runs it), "SD 1.x" for
    /// OpenAI CLIP's (quick GELU): the activation, not the width, tells them apart at any size.
    /// </summary>
    public string Family => Text.QuickGelu ? "SD 1.x" : "SD 2.x";

    /// <summary>A one-line description for logs and messages.</summary>
    public string Describe() =>
        $"{Family}-shaped: UNet channels [{string.Join(", ", Unet.BlockOutChannels)}], {Unet.LayersPerBlock} layers per block, "
        + $"context {Unet.CrossAttentionDim}, heads per level [{string.Join(", ", Enumerable.Range(0, Unet.BlockOutChannels.Length).Select(Unet.HeadsAtLevel))}], "
        + $"{(Unet.LinearProjection ? "linear" : "convolutional")} proj_in, {Unet.NormGroups} norm groups; VAE channels [{string.Join(", ", Vae.BlockOutChannels)}]; "
        + $"text encoder {Text.Hidden} wide, {Text.Layers} layers, {Text.Heads} heads, {(Text.QuickGelu ? "quick GELU" : "GELU")}";

    /// <summary>Problems that make the three networks inconsistent (empty when they fit together).</summary>
    public IEnumerable<string> Inconsistencies()
    {
        if (Text.Hidden != Unet.CrossAttentionDim)
        {
            yield return $"the text encoder is {Text.Hidden} wide but the UNet's cross-attention expects {Unet.CrossAttentionDim}.";
        }
        if (Vae.LatentChannels != Unet.LatentChannels)
        {
            yield return $"the VAE has {Vae.LatentChannels} latent channels but the UNet {Unet.LatentChannels}.";
        }
        for (int i = 0; i < Unet.BlockOutChannels.Length; i++)
        {
            int heads = Unet.HeadsAtLevel(i), channels = Unet.BlockOutChannels[i];
            if (heads < 1 || channels % heads != 0)
            {
                yield return $"UNet level {i} has {channels} channels, which {heads} attention heads do not divide.";
            }
            if (channels % Unet.NormGroups != 0)
            {
                yield return $"UNet level {i} has {channels} channels, which {Unet.NormGroups} norm groups do not divide.";
            }
        }
        if (Vae.DownscaleFactor != 8)
        {
            // The loader runs only SD's VAE geometry (latents 1/8 of the image): refuse now rather than write an export it refuses.
            yield return $"the VAE has {Vae.BlockOutChannels.Length} levels and downscales by {Vae.DownscaleFactor}; LatentIndigo runs the SD 1.x/2.x VAE (4 levels, downscale 8).";
        }
        if (Vae.BlockOutChannels.Any(c => c % Vae.NormGroups != 0))
        {
            yield return $"the VAE's channels [{string.Join(", ", Vae.BlockOutChannels)}] are not all multiples of its {Vae.NormGroups} norm groups.";
        }
        if (Text.Heads < 1 || Text.Hidden % Text.Heads != 0)
        {
            yield return $"the text encoder's width {Text.Hidden} is not a multiple of its {Text.Heads} heads.";
        }
    }
}
