using LatentIndigo.Batch;
using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// The restorer of <c>batch</c>: one pipeline on one model set serving <c>--concurrency</c> restores at once (each
/// restore gets its own buffers and INN copies inside the pipeline).
/// </summary>
internal static class BatchRestorerFactory
{
    public static PipelinePool Create(int concurrency, string innName, string? modelFolder, string? latentInnPath, bool untrainedLatentInn,
        DiffusionModelOptions modelOptions)
    {
        var pixel = InnCommandSupport.LoadInn(innName);
        StableDiffusionModels? models = null;
        LiftingInn? latent = null;
        try
        {
            if (pixel.Channels != 3)
            {
                throw new CliUserException($"The INN '{innName}' works on {pixel.Channels} channels; restoring needs a pixel (RGB) INN.");
            }
            models = modelFolder is null ? null : StableDiffusionModels.Load(modelFolder, modelOptions);
            if (latentInnPath is not null)
            {
                latent = InnCommandSupport.LoadInn(latentInnPath);
            }
            else if (untrainedLatentInn && models is not null)
            {
                latent = new LiftingInn(new LiftingInnOptions { Channels = models.LatentChannels, Offset = 0, Levels = 2 });
                latent.ResetToLazyWavelet();
            }
            return new PipelinePool([new RestorationPipeline(models, pixel, latent, maxConcurrentRestores: concurrency)]);
        }
        catch
        {
            models?.Dispose();
            pixel.Dispose();
            latent?.Dispose();
            throw;
        }
    }
}
