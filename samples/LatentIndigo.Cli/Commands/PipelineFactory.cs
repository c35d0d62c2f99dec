using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;

namespace LatentIndigo.Cli.Commands;

/// <summary>The pipeline of <c>restore</c>, <c>eval</c> and <c>batch</c>: the pixel INN, the diffusion models and the latent INN.</summary>
internal static class PipelineFactory
{
    /// <summary>The default pixel INN: the library's (<see cref="RestorationPipelineOptions.DefaultBundledPixelInn"/>), for every input.</summary>
    public static string DefaultInn => RestorationPipelineOptions.DefaultBundledPixelInn == BundledInnWeights.BicubicX4 ? "bicubic-x4" : "realworld-x4";

    /// <summary>Stand-in models with random weights in a temporary folder (the UNet is the exact denoiser for Gaussian data).</summary>
    public static StandInFolder CreateStandIn(string cost) => StandInModelBuilder.CreateTemporary(new StandInOptions
    {
        UnetBehavior = StandInUnetBehavior.GaussianDenoiser,
        Cost = cost switch { "sd" => StandInCost.SdLike, "cpu" => StandInCost.CpuBenchmark, _ => null },
        VaeCost = cost switch { "sd" => new StandInCost(320, 32), "cpu" => new StandInCost(128, 8), _ => null },
        ExternalData = cost == "sd",
    });

    /// <summary>Loads the pipeline; every part is disposed again when a later part fails.</summary>
    /// <param name="innName">Bundled pixel INN name or weights file.</param>
    /// <param name="modelFolder">Stable Diffusion export (or stand-in) folder, or null for INN-only.</param>
    /// <param name="latentInnPath">Latent INN file, or null.</param>
    /// <param name="untrainedLatentInn">Without a latent INN file, use the plain polyphase split (stand-ins: shows the plumbing).</param>
    /// <param name="modelOptions">Where the diffusion models run.</param>
    /// <param name="innEngine">What computes the INNs' no-weight-gradient passes.</param>
    /// <param name="maxConcurrentRestores">Restores the pipeline runs at once (batch: <c>--concurrency</c>).</param>
    public static RestorationPipeline Create(string innName, string? modelFolder, string? latentInnPath, bool untrainedLatentInn,
        DiffusionModelOptions modelOptions, InnEngine innEngine, int maxConcurrentRestores = 1)
    {
        var pixelInn = InnCommandSupport.LoadInn(innName);
        LiftingInn? latentInn = null;
        StableDiffusionModels? models = null;
        try
        {
            if (pixelInn.Channels != 3)
            {
                throw new CliUserException($"The INN '{innName}' works on {pixelInn.Channels} channels; restoring needs a pixel (RGB) INN.");
            }
            // A diffusers folder or a single file is converted once into the import cache, then loaded from there.
            modelFolder = ImportSdCommand.ResolveModel(modelFolder);
            models = modelFolder is null ? null : StableDiffusionModels.Load(modelFolder, modelOptions);
            if (latentInnPath is not null)
            {
                latentInn = InnCommandSupport.LoadInn(latentInnPath);
            }
            else if (untrainedLatentInn && models is not null)
            {
                // Fixed seed: blind refinement trains these weights, so they must be the same in every process. They
                // belong to the pipeline (shared by a batch's restores and by cluster workers), not to one restore's seed.
                latentInn = new LiftingInn(new LiftingInnOptions { Channels = models.LatentChannels, Offset = 0, Levels = 2 }, seed: 0);
                latentInn.ResetToLazyWavelet();
            }
            pixelInn.Engine = innEngine;
            if (latentInn is not null)
            {
                latentInn.Engine = innEngine;
            }
            return new RestorationPipeline(models, pixelInn, latentInn, maxConcurrentRestores: maxConcurrentRestores);
        }
        catch
        {
            models?.Dispose();
            pixelInn.Dispose();
            latentInn?.Dispose();
            throw;
        }
    }
}
