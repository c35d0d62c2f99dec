using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;
using Microsoft.Extensions.Options;

namespace LatentIndigo.Web.Hosting;

/// <summary>
/// The app's one <see cref="RestorationPipeline"/> (a DI singleton): the models are loaded once and shared by every
/// request; <see cref="DemoSettings.MaxConcurrentRestores"/> of them run at once. Disposed with the app, which cancels
/// and waits for running restores first.
/// </summary>
public sealed class PipelineHost : IDisposable
{
    private readonly StandInFolder? standIn;

    /// <summary>Loads the pipeline the settings describe (INN-only, stand-in or a real export).</summary>
    public PipelineHost(IOptions<DemoSettings> options, ILogger<PipelineHost> logger)
    {
        var settings = options.Value;
        var innOptions = new RestorationPipelineOptions
        {
            MaxConcurrentRestores = settings.MaxConcurrentRestores,
            PixelInnPath = settings.Inn is { } inn && !BundledInn.TryParse(inn, out _) ? inn : null,
            BundledPixelInn = settings.Inn is { } name && BundledInn.TryParse(name, out var bundled) ? bundled : RestorationPipelineOptions.DefaultBundledPixelInn,
            LatentInnPath = settings.LatentInn,
        };
        if (settings.StandIn)
        {
            // As the CLI's --stand-in: the UNet is the exact denoiser for Gaussian data, the weights are random.
            standIn = StandInModelBuilder.CreateTemporary(new StandInOptions { UnetBehavior = StandInUnetBehavior.GaussianDenoiser });
            try
            {
                Pipeline = LoadStandIn(standIn.Path, innOptions, logger);
            }
            catch
            {
                standIn.Dispose();
                throw;
            }
            Mode = DemoMode.StandIn;
        }
        else
        {
            Pipeline = RestorationPipeline.Load(settings.Model, innOptions, logger);
            Mode = settings.Model is null ? DemoMode.InnOnly : DemoMode.Model;
        }
        logger.LogInformation("Pipeline ready: {Mode}, {Restores} restore(s) at once, latent INN {LatentInn}",
            Mode, Pipeline.MaxConcurrentRestores, Pipeline.LatentInn is null ? "none" : "loaded");
    }

    /// <summary>The shared pipeline.</summary>
    public RestorationPipeline Pipeline { get; }

    /// <summary>What the pipeline can do: INN-only, stand-in models or a real export.</summary>
    public DemoMode Mode { get; }

    /// <summary>The strategies this pipeline can run (diffusion ones need models; latent needs a latent INN).</summary>
    public IReadOnlyList<GuidanceStrategy> Strategies => Pipeline.Models is null
        ? [GuidanceStrategy.InnOnly]
        : Pipeline.LatentInn is null
            ? [GuidanceStrategy.PixelInn, GuidanceStrategy.None, GuidanceStrategy.InnOnly]
            : [GuidanceStrategy.PixelInn, GuidanceStrategy.LatentInn, GuidanceStrategy.None, GuidanceStrategy.InnOnly];

    /// <summary>The strategy used when a request names none: pixel with models, INN-only without (as the CLI).</summary>
    public GuidanceStrategy DefaultStrategy => Pipeline.Models is null ? GuidanceStrategy.InnOnly : GuidanceStrategy.PixelInn;

    /// <inheritdoc />
    public void Dispose()
    {
        Pipeline.Dispose();
        standIn?.Dispose();
    }

    private static RestorationPipeline LoadStandIn(string folder, RestorationPipelineOptions options, ILogger logger)
    {
        var pixel = options.PixelInnPath is null ? BundledInn.Load(options.BundledPixelInn) : LiftingInn.LoadAny(options.PixelInnPath);
        StableDiffusionModels? models = null;
        LiftingInn? latent = null;
        try
        {
            models = StableDiffusionModels.Load(folder, new DiffusionModelOptions(), logger);
            // Without a trained latent INN: the plain polyphase split, so the latent strategy shows its plumbing (as the CLI).
            latent = options.LatentInnPath is null ? new LiftingInn(new LiftingInnOptions { Channels = models.LatentChannels, Offset = 0, Levels = 2 }, seed: 0) : LiftingInn.LoadAny(options.LatentInnPath);
            if (options.LatentInnPath is null)
            {
                latent.ResetToLazyWavelet();
            }
            return new RestorationPipeline(models, pixel, latent, logger, maxConcurrentRestores: options.MaxConcurrentRestores);
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

/// <summary>What the demo's pipeline runs on.</summary>
public enum DemoMode
{
    /// <summary>No Stable Diffusion export: INN-only restoration (no generative prior).</summary>
    InnOnly,

    /// <summary>Generated stand-in models with random weights: the whole pipeline runs, the output is not a real restoration.</summary>
    StandIn,

    /// <summary>A real Stable Diffusion export.</summary>
    Model,
}
