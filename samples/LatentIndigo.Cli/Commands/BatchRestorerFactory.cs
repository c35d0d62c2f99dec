using LatentIndigo.Batch;
using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// The restorer of <c>batch</c>: <c>--concurrency</c> pipelines, each with its own model set and INNs (a
/// <see cref="StableDiffusionModels"/> runs one call per model at a time, and an INN holds autograd state while it
/// guides, so concurrent restores share neither; the cost is one set of weights in memory per pipeline).
/// </summary>
internal static class BatchRestorerFactory
{
    public static PipelinePool Create(int concurrency, string innName, string? modelFolder, string? latentInnPath, bool untrainedLatentInn,
        DiffusionModelOptions modelOptions)
    {
        var owned = new List<IDisposable>();
        var pipelines = new List<RestorationPipeline>();
        void Free()
        {
            foreach (var component in owned)
            {
                component.Dispose();
            }
        }
        try
        {
            for (int i = 0; i < concurrency; i++)
            {
                var pixel = InnCommandSupport.LoadInn(innName);
                owned.Add(pixel);
                if (pixel.Channels != 3)
                {
                    throw new CliUserException($"The INN '{innName}' works on {pixel.Channels} channels; restoring needs a pixel (RGB) INN.");
                }
                var models = modelFolder is null ? null : StableDiffusionModels.Load(modelFolder, modelOptions);
                if (models is not null)
                {
                    owned.Add(models);
                }
                LiftingInn? latent = null;
                if (latentInnPath is not null)
                {
                    latent = InnCommandSupport.LoadInn(latentInnPath);
                }
                else if (untrainedLatentInn && models is not null)
                {
                    latent = new LiftingInn(new LiftingInnOptions { Channels = models.LatentChannels, Offset = 0, Levels = 2 });
                    latent.ResetToLazyWavelet();
                }
                if (latent is not null)
                {
                    owned.Add(latent);
                }
                pipelines.Add(new RestorationPipeline(models, pixel, latent, ownsComponents: false));
            }
            return new PipelinePool(pipelines, Free);
        }
        catch
        {
            foreach (var pipeline in pipelines)
            {
                pipeline.Dispose();
            }
            Free();
            throw;
        }
    }
}
