using LatentIndigo.Diffusion.Architecture;

namespace LatentIndigo.StandIns;

/// <summary>The three SD networks of an architecture stand-in (random weights: NOT a diffusion model).</summary>
/// <param name="Unet">The UNet.</param>
/// <param name="Vae">The VAE.</param>
/// <param name="Text">The text encoder; its width must equal the UNet's cross-attention width.</param>
/// <param name="Seed">Seed of the random weights.</param>
internal sealed record StandInArchitecture(SdUnetConfig Unet, SdVaeConfig Vae, ClipTextConfig Text, ulong Seed = 1)
{
    /// <summary>SD 1.5 at full size (≈4.3 GB of fp32 weights: written with external data).</summary>
    public static StandInArchitecture Sd15 { get; } = new(SdUnetConfig.Sd15, SdVaeConfig.Sd, ClipTextConfig.Sd15);

    /// <summary>SD 2.1-base at full size (≈5.2 GB of fp32 weights: written with external data).</summary>
    public static StandInArchitecture Sd21Base { get; } = new(SdUnetConfig.Sd21Base, SdVaeConfig.Sd, ClipTextConfig.Sd21);

    /// <summary>Tiny versions of all three, for tests (loads and runs in milliseconds).</summary>
    public static StandInArchitecture Tiny { get; } = new(SdUnetConfig.Tiny, SdVaeConfig.Tiny, ClipTextConfig.Tiny);

    /// <summary>The stand-in weights of this architecture's seed, as the graphs read them.</summary>
    public ISdWeights Weights => new StandInWeights.Source(Seed);
}
