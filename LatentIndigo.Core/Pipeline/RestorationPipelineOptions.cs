using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;

namespace LatentIndigo.Pipeline;

/// <summary>What <see cref="RestorationPipeline.Load"/> loads besides the Stable Diffusion export.</summary>
public sealed record RestorationPipelineOptions
{
    /// <summary>ONNX Runtime options of the diffusion models (provider, threads, session hook).</summary>
    public DiffusionModelOptions? Models { get; init; }

    /// <summary>Pixel INN weights saved by <c>train-inn</c> (or an INDIGO+ <c>.pth</c>); null uses <see cref="BundledPixelInn"/>.</summary>
    public string? PixelInnPath { get; init; }

    /// <summary>The bundled pixel INN used when <see cref="PixelInnPath"/> is null. Default: the mixed real-world ×4 one.</summary>
    public BundledInnWeights BundledPixelInn { get; init; } = BundledInnWeights.RealWorldX4;

    /// <summary>Latent INN weights trained for the export's VAE (<c>train-inn --latent</c>); needed for latent guidance.</summary>
    public string? LatentInnPath { get; init; }

    /// <summary>Restores that run at once on the loaded pipeline; more wait in line. Default 1.</summary>
    public int MaxConcurrentRestores { get; init; } = 1;
}
