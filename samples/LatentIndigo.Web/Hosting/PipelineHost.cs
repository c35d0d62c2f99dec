using LatentIndigo.Diffusion;
using LatentIndigo.Diffusion.Import;
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
        else if (settings.Model is null)
        {
            Pipeline = RestorationPipeline.Load(null, innOptions, logger);
            Mode = DemoMode.InnOnly;
        }
        else
        {
            // As RestorationPipeline.Load and the CLI's restore --model: an ONNX export folder as it is; a diffusers
            // pipeline folder or a single-file checkpoint converted once into the import cache and reused. Resolved
            // here (not inside Load) to say which it was and where the conversion is.
            var (export, source) = ResolveModel(settings, logger);
            Pipeline = LoadModel(export, innOptions, logger);
            Mode = DemoMode.Model;
            var models = Pipeline.Models!;
            ModelDescription = $"{source} · {(models.Precision == ModelPrecision.Float16 ? "fp16" : "fp32")} · {models.PredictionType.Value} prediction · {models.ExecutionProvider}"
                + (models.IsStandIn ? " · stand-in models (random weights)" : "");
            logger.LogInformation("Model: {Description}; export folder '{Export}'", ModelDescription, export);
        }
        logger.LogInformation("Pipeline ready: {Mode}, {Restores} restore(s) at once, latent INN {LatentInn}",
            Mode, Pipeline.MaxConcurrentRestores, Pipeline.LatentInn is null ? "none" : "loaded");
    }

    /// <summary>
    /// What <c>--model</c> loaded, for the page and the log: the kind of source and its file or folder name (never the
    /// server's full paths), precision, prediction type and execution provider; null without a model.
    /// </summary>
    public string? ModelDescription { get; }

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

    /// <summary>
    /// The export folder for <see cref="DemoSettings.Model"/> and what it was. Anything that is neither an export, a
    /// diffusers folder nor a checkpoint is refused here with a message naming the three (the app does not start).
    /// </summary>
    private static (string Export, string Source) ResolveModel(DemoSettings settings, ILogger logger)
    {
        string model = settings.Model!;
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(model));
        const string Accepted = "--model takes a Stable Diffusion ONNX export folder, a diffusers pipeline folder (model_index.json, unet/, vae/, text_encoder/) " +
            "or a single-file checkpoint (.safetensors, .ckpt)";
        if (!Directory.Exists(model) && !File.Exists(model))
        {
            throw new LatentIndigoException($"--model '{model}' does not exist. {Accepted}.");
        }
        if (!StableDiffusionImport.IsImportSource(model))
        {
            if (File.Exists(model))
            {
                throw new LatentIndigoException($"--model '{model}' is a file but not a checkpoint. {Accepted}.");
            }
            if (!File.Exists(Path.Combine(model, "model_index.json")) && !File.Exists(Path.Combine(model, "unet", "model.onnx")))
            {
                throw new LatentIndigoException($"--model '{model}' is neither an ONNX export folder (unet/model.onnx, vae_encoder/, vae_decoder/, text_encoder/, tokenizer/, scheduler/) " +
                    $"nor a diffusers pipeline folder (model_index.json, unet/, vae/, text_encoder/). {Accepted}.");
            }
            // An export (perhaps incomplete: StableDiffusionModels.Load lists what is missing).
            return (model, $"ONNX export '{name}'");
        }
        string kind = Directory.Exists(model) ? "diffusers pipeline folder" : "single-file checkpoint";
        var import = new StableDiffusionImportOptions { Logger = logger, CacheFolder = settings.ImportCacheFolder };
        string cache = settings.ImportCacheFolder ?? StableDiffusionImport.DefaultCacheFolder;
        logger.LogInformation("--model '{Model}' is a {Kind}: converting it once into the import cache '{Cache}' (later starts reuse the conversion)", model, kind, cache);
        try
        {
            string export = StableDiffusionImport.ConvertCached(model, import, new ConversionProgressLog(logger));
            return (export, $"{kind} '{name}' (converted into the import cache)");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LatentIndigoException($"--model '{model}' could not be converted into the import cache '{cache}': {ex.Message} " +
                "Check the source is readable and the cache folder writable (Demo:ImportCacheFolder or LATENTINDIGO_IMPORT_CACHE moves it).", ex);
        }
    }

    private static RestorationPipeline LoadModel(string export, RestorationPipelineOptions options, ILogger logger)
    {
        try
        {
            return RestorationPipeline.Load(export, options, logger);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            throw new LatentIndigoException($"--model: the export '{export}' could not be loaded: {ex.Message}", ex);
        }
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

    /// <summary>A real Stable Diffusion export (given as such, or converted from a diffusers folder or a checkpoint).</summary>
    Model,
}

/// <summary>Logs a conversion's progress every tenth of the way (the CLI shows a progress bar instead).</summary>
internal sealed class ConversionProgressLog(ILogger logger) : IProgress<StableDiffusionImportProgress>
{
    private int lastTenth = -1;

    public void Report(StableDiffusionImportProgress value)
    {
        int tenth = (int)(value.Fraction * 10);
        if (Interlocked.Exchange(ref lastTenth, tenth) != tenth)
        {
            logger.LogInformation("import: {Percent}% ({Model})", tenth * 10, value.Model);
        }
    }
}
