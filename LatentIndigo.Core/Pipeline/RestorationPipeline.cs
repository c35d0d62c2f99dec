using System.Diagnostics;
using LatentIndigo.Diffusion;
using LatentIndigo.Guidance;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>
/// LatentINDIGO end to end: a frozen Stable Diffusion export (ONNX Runtime) guided by invertible networks (TorchSharp).
/// </summary>
/// <remarks>
/// <para>Per image: pad y to a multiple of 8 → initial estimate x₀ (bicubic by default) → z = E(x₀) noised to the start
/// timestep → for each DDIM step and latent tile: UNet → ẑ0 → guidance (pixel or latent INN) → optional INN refinement
/// (blind) → optional manifold regularisation; tiles are blended with Gaussian weights → DDIM update. The last guided
/// ẑ0 is decoded, colour-fixed against x₀ and, for a known degradation, made measurement-consistent by back-projection
/// through the INN's forward model (pixel: the image against y; latent: the latent against E(y) before decoding;
/// algorithm.md §5). The output is cropped back to exactly the input size × scale.</para>
/// <para>Threading: one restoration at a time per pipeline (a second concurrent call throws
/// <see cref="InvalidOperationException"/>); create one pipeline per thread for parallel work.</para>
/// <para>Ownership: the pipeline owns the model set and INNs it was given (unless told otherwise) and disposes them.</para>
/// </remarks>
public sealed class RestorationPipeline : IDisposable
{
    private readonly StableDiffusionModels? models;
    private readonly LiftingInn pixelInn;
    private readonly LiftingInn? latentInn;
    private readonly bool ownsComponents;
    private readonly ILogger logger;
    private readonly Dictionary<(bool Latent, int Scale), LiftingInn> rescaledInns = new();
    private int busy;
    private bool disposed;

    /// <summary>Creates a pipeline from loaded components.</summary>
    /// <param name="models">The Stable Diffusion model set, or null for <see cref="GuidanceStrategy.InnOnly"/> only.</param>
    /// <param name="pixelInn">The pixel INN (3 channels).</param>
    /// <param name="latentInn">A latent INN trained for the export's VAE (needed for <see cref="GuidanceStrategy.LatentInn"/>).</param>
    /// <param name="logger">Optional logger: stage timings at Information level.</param>
    /// <param name="ownsComponents">Dispose the models and INNs with the pipeline (default true).</param>
    public RestorationPipeline(StableDiffusionModels? models, LiftingInn pixelInn, LiftingInn? latentInn = null,
        ILogger? logger = null, bool ownsComponents = true)
    {
        this.pixelInn = pixelInn ?? throw new ArgumentNullException(nameof(pixelInn));
        if (pixelInn.Channels != 3)
        {
            throw new ArgumentException($"The pixel INN must have 3 channels; this one has {pixelInn.Channels}.", nameof(pixelInn));
        }
        if (latentInn is not null && models is not null && latentInn.Channels != models.LatentChannels)
        {
            throw new ArgumentException(
                $"The latent INN has {latentInn.Channels} channels but the export's latents have {models.LatentChannels}: train one for this VAE (train-inn --latent --vae <export>).",
                nameof(latentInn));
        }
        this.models = models;
        this.latentInn = latentInn;
        this.ownsComponents = ownsComponents;
        this.logger = logger ?? NullLogger.Instance;
        // The whole loop runs where the models' buffers are (the GPU with the CUDA provider), so the INNs go there too.
        Device = models?.Device ?? torch.CPU;
        pixelInn.to(Device);
        latentInn?.to(Device);
    }

    /// <summary>
    /// Loads a pipeline: the Stable Diffusion export in <paramref name="modelFolder"/> (null: INN-only), the pixel INN
    /// (bundled by default) and the optional latent INN.
    /// </summary>
    public static RestorationPipeline Load(string? modelFolder, RestorationPipelineOptions? options = null, ILogger? logger = null)
    {
        options ??= new RestorationPipelineOptions();
        LiftingInn? pixel = null, latent = null;
        StableDiffusionModels? models = null;
        try
        {
            pixel = options.PixelInnPath is null ? BundledInn.Load(options.BundledPixelInn) : LoadInn(options.PixelInnPath);
            latent = options.LatentInnPath is null ? null : LoadInn(options.LatentInnPath);
            models = modelFolder is null ? null : StableDiffusionModels.Load(modelFolder, options.Models, logger);
            return new RestorationPipeline(models, pixel, latent, logger);
        }
        catch
        {
            models?.Dispose();
            pixel?.Dispose();
            latent?.Dispose();
            throw;
        }
    }

    /// <summary>The Stable Diffusion model set, or null (INN-only).</summary>
    public StableDiffusionModels? Models => models;

    /// <summary>The pixel INN.</summary>
    public LiftingInn PixelInn => pixelInn;

    /// <summary>
    /// Where restorations run: the models' device (<see cref="StableDiffusionModels.Device"/>), or the CPU without
    /// models. The constructor moves the INNs there. Inputs and results are CPU tensors whatever the device.
    /// </summary>
    public Device Device { get; }

    /// <summary>The latent INN, if any.</summary>
    public LiftingInn? LatentInn => latentInn;

    /// <summary>
    /// Restores a low-quality image <c>[1,3,h,w]</c> float32 in [0,1] (CPU) to <c>[1,3,h·s,w·s]</c>.
    /// </summary>
    /// <exception cref="InvalidRestoreInputException">Wrong shape or dtype, NaN/∞, values outside [0,1], too large.</exception>
    /// <exception cref="InvalidRestoreOptionsException">An option is out of range.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (checked at every step and tile, and inside model runs).</exception>
    /// <exception cref="RestoreOutOfMemoryException">The device ran out of memory; the message says which setting to lower.</exception>
    public RestoreResult Restore(Tensor lowQuality, RestoreOptions? options = null, IProgress<RestoreProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var o = (options ?? RestoreOptions.Default).ForExport(models?.DefaultLatentTileSize).Validate();
        CheckInput(lowQuality, o);
        CheckComponents(o);
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            throw new InvalidOperationException(
                "This pipeline is already restoring an image on another thread. Use one RestorationPipeline per thread.");
        }
        try
        {
            return new RestoreRun(this, lowQuality, o, progress, cancellationToken).Execute();
        }
        catch (Exception ex) when (RestoreOutOfMemoryException.IsOutOfMemory(ex))
        {
            throw RestoreOutOfMemoryException.For(ex, o, Device, RestoreRun.TileBatchSize(o, Device));
        }
        finally
        {
            Volatile.Write(ref busy, 0);
        }
    }

    /// <summary>Runs <see cref="Restore(Tensor, RestoreOptions?, IProgress{RestoreProgress}?, CancellationToken)"/> on the thread pool.</summary>
    public Task<RestoreResult> RestoreAsync(Tensor lowQuality, RestoreOptions? options = null, IProgress<RestoreProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => Restore(lowQuality, options, progress, cancellationToken), cancellationToken);

    /// <summary>Restores a SkiaSharp bitmap (alpha dropped) and returns a new opaque bitmap owned by the caller.</summary>
    public SKBitmap Restore(SKBitmap lowQuality, RestoreOptions? options = null, IProgress<RestoreProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lowQuality);
        using var input = ImageIO.FromBitmap(lowQuality);
        using var result = Restore(input, options, progress, cancellationToken);
        return ImageIO.ToBitmap(result.Image);
    }

    /// <summary>
    /// Restores an image file into <paramref name="outputPath"/> (format from the extension), written atomically. The
    /// input is never overwritten: an output path equal to the input throws <see cref="ImageOverwriteException"/>
    /// before any work is done.
    /// </summary>
    public RestoreResult RestoreFile(string inputPath, string outputPath, RestoreOptions? options = null,
        IProgress<RestoreProgress>? progress = null, CancellationToken cancellationToken = default, ImageSaveOptions? saveOptions = null)
    {
        ArgumentNullException.ThrowIfNull(inputPath);
        ArgumentNullException.ThrowIfNull(outputPath);
        var save = (saveOptions ?? ImageSaveOptions.Default) with { SourcePath = inputPath, AllowOverwriteSource = false };
        if (Path.GetFullPath(inputPath) == Path.GetFullPath(outputPath))
        {
            throw new ImageOverwriteException(outputPath);
        }
        ImageIO.FormatFromExtension(outputPath);
        var o = (options ?? RestoreOptions.Default).Validate();
        CheckInputFile(inputPath, o);
        using var input = ImageIO.Load(inputPath, ImageLoadOptions.Default);
        var result = Restore(input, o, progress, cancellationToken);
        try
        {
            ImageIO.Save(result.Image, outputPath, save);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks an input file against the limits of <paramref name="options"/> from its header alone, without decoding
    /// it: a regular, readable file within <see cref="ImageLoadOptions.MaxFileBytes"/>, a supported format, at most
    /// <see cref="ImageLoadOptions.MaxPixels"/> input pixels and at most <see cref="RestoreOptions.MaxOutputPixels"/>
    /// output pixels. <see cref="RestoreFile"/> does this itself; call it to check a batch before starting any work.
    /// </summary>
    /// <returns>The stored width and height of the input.</returns>
    /// <exception cref="ImageLoadException">The file cannot be read as an image, or has too many pixels.</exception>
    /// <exception cref="InvalidRestoreInputException">The output would have more than <see cref="RestoreOptions.MaxOutputPixels"/> pixels.</exception>
    public static (int Width, int Height) CheckInputFile(string inputPath, RestoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(inputPath);
        ArgumentNullException.ThrowIfNull(options);
        var (_, width, height) = ImageIO.Identify(inputPath, ImageLoadOptions.Default);
        if ((long)width * height > ImageLoadOptions.Default.MaxPixels)
        {
            throw new ImageTooLargeException(inputPath, width, height, ImageLoadOptions.Default.MaxPixels);
        }
        CheckOutputSize(width, height, options, $"'{inputPath}'");
        return (width, height);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        foreach (var inn in rescaledInns.Values)
        {
            inn.Dispose();
        }
        if (ownsComponents)
        {
            models?.Dispose();
            pixelInn.Dispose();
            latentInn?.Dispose();
        }
    }

    internal ILogger Logger => logger;

    /// <summary>
    /// The INN for a scale factor. The lifting weights are shared across levels, so an INN trained for ×4 (J = 2) serves
    /// ×2 (J = 1), ×8 (J = 3) and same-size restoration (J = 0) with the same weights and a different number of levels.
    /// </summary>
    internal LiftingInn InnForScale(bool latent, int scale)
    {
        var inn = latent ? latentInn! : pixelInn;
        if (inn.ScaleFactor == scale)
        {
            return inn;
        }
        if (!rescaledInns.TryGetValue((latent, scale), out var rescaled))
        {
            var innOptions = inn.Options;
            innOptions.Levels = System.Numerics.BitOperations.Log2((uint)scale);
            rescaled = new LiftingInn(innOptions);
            rescaled.load_state_dict(inn.state_dict());
            rescaled.to(inn.DType).to(inn.Device);
            rescaledInns[(latent, scale)] = rescaled;
            logger.LogInformation("Using the {Kind} INN (trained for ×{Trained}) with {Levels} level(s) for ×{Scale}.",
                latent ? "latent" : "pixel", inn.ScaleFactor, innOptions.Levels, scale);
        }
        return rescaled;
    }

    private static LiftingInn LoadInn(string path)
    {
        if (!File.Exists(path))
        {
            throw new InnWeightsException($"INN weights '{path}' do not exist. Train them with 'latent-indigo train-inn' or omit the option to use the bundled ones.");
        }
        return LiftingInn.LoadAny(path);
    }

    private static void CheckInput(Tensor image, RestoreOptions o)
    {
        ArgumentNullException.ThrowIfNull(image);
        var shape = image.shape;
        if (shape.Length != 4 || shape[0] != 1 || shape[1] != 3 || shape[2] < 1 || shape[3] < 1)
        {
            throw new InvalidRestoreInputException(
                $"Expected one RGB image as a [1,3,h,w] tensor; got [{string.Join(",", shape)}]. Load images with ImageIO.Load.");
        }
        if (image.dtype != ScalarType.Float32)
        {
            throw new InvalidRestoreInputException($"Expected float32 values in [0,1]; got {image.dtype}. Convert with .to(float32) / 255 or use ImageIO.Load.");
        }
        if (image.device_type != DeviceType.CPU)
        {
            throw new InvalidRestoreInputException($"Expected a CPU tensor; got one on {image.device}. The pipeline moves data to the models itself.");
        }
        CheckOutputSize(shape[3], shape[2], o, "The input");
        using var scope = torch.NewDisposeScope();
        if (!image.isfinite().all().item<bool>())
        {
            long bad = image.isfinite().logical_not().sum().item<long>();
            throw new InvalidRestoreInputException($"The input contains {bad} NaN or infinite value(s); check how it was produced.");
        }
        float min = image.min().item<float>(), max = image.max().item<float>();
        if (min < -1e-3f || max > 1 + 1e-3f)
        {
            throw new InvalidRestoreInputException(
                $"Expected values in [0,1]; got [{min}, {max}]. Divide 8-bit data by 255 (ImageIO.Load does) and do not pass [-1,1] images.");
        }
    }

    private static void CheckOutputSize(long width, long height, RestoreOptions o, string what)
    {
        long outputPixels = width * o.ScaleFactor * height * o.ScaleFactor;
        if (outputPixels > o.MaxOutputPixels)
        {
            throw new InvalidRestoreInputException(
                $"{what} is {width}×{height}; restored ×{o.ScaleFactor} it would be {width * o.ScaleFactor}×{height * o.ScaleFactor} = {outputPixels:N0} pixels, " +
                $"over the limit of {o.MaxOutputPixels:N0} (RestoreOptions.MaxOutputPixels; see RestoreOptions.EstimatePeakMemoryBytes for the memory a size needs). " +
                "Use a smaller input or scale factor, or raise the limit if the machine has the memory.");
        }
    }

    private void CheckComponents(RestoreOptions o)
    {
        if (o.Strategy != GuidanceStrategy.InnOnly && models is null)
        {
            throw new LatentIndigoException(
                $"The {o.Strategy} strategy needs a Stable Diffusion ONNX export, and this pipeline has none. Load one with RestorationPipeline.Load(folder) (see docs/usage.md), or use GuidanceStrategy.InnOnly.");
        }
        if (o.Strategy == GuidanceStrategy.LatentInn && latentInn is null)
        {
            throw new LatentIndigoException(
                "Latent guidance needs a latent INN trained for this export's VAE. Train one with 'latent-indigo train-inn --latent --vae <export>' and pass RestorationPipelineOptions.LatentInnPath.");
        }
    }
}
