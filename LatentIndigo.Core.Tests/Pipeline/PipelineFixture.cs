using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;

namespace LatentIndigo.Tests.Pipeline;

/// <summary>
/// A stand-in SD export (its UNet an exact denoiser for Gaussian data) with the bundled bicubic ×4 pixel INN and an
/// untrained latent INN, shared per class. The latent INN's random weights come from a fixed seed: with the default
/// initialisation (torch's process-global generator) every run drew a different network, and a comparison whose
/// rounding an unlucky draw amplified failed once in a while.
/// </summary>
public sealed class PipelineFixture : IDisposable
{
    private readonly StandInFolder folder = StandInModelBuilder.CreateTemporary(new StandInOptions { UnetBehavior = StandInUnetBehavior.GaussianDenoiser });

    public PipelineFixture()
    {
        var latentInn = LatentIndigo.Tests.Invertible.InnTestHelpers.RandomInn(
            new LiftingInnOptions { Channels = 4, Offset = 0, Levels = 2 }, seed: 2024, scale: 0.577);
        Pipeline = new RestorationPipeline(StableDiffusionModels.Load(folder.Path), BundledInn.Load(BundledInnWeights.BicubicX4), latentInn);
    }

    public RestorationPipeline Pipeline { get; }

    /// <summary>The pipeline's pixel INN as the <see cref="LatentIndigo.Invertible.LiftingInn"/> the fixture gave it.</summary>
    public LatentIndigo.Invertible.LiftingInn PixelLifting => (LatentIndigo.Invertible.LiftingInn)Pipeline.PixelInn;

    /// <summary>The pipeline's latent INN as a <see cref="LatentIndigo.Invertible.LiftingInn"/>.</summary>
    public LatentIndigo.Invertible.LiftingInn LatentLifting => (LatentIndigo.Invertible.LiftingInn)Pipeline.LatentInn!;


    public string ModelFolder => folder.Path;

    public void Dispose()
    {
        Pipeline.Dispose();
        folder.Dispose();
    }
}

/// <summary>An IProgress that runs its callback synchronously on the reporting thread.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
