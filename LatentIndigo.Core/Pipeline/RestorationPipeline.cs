using System.Diagnostics;
using LatentIndigo.Diffusion;
using LatentIndigo.Diffusion.Import;
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
/// <para>Threading: one pipeline serves any number of threads. Up to <see cref="MaxConcurrentRestores"/> restores run at
/// once over the same ONNX Runtime sessions and INNs, each with its own bound buffers, sampler, guidance and (blind mode)
/// private INN copies; further calls wait in line. <see cref="Dispose"/> cancels running and waiting restores and waits
/// for them before freeing the models.</para>
/// <para>Ownership: the pipeline owns the model set and INNs it was given (unless told otherwise) and disposes them.</para>
/// <para>Tracing: each stage of a restore is an <see cref="System.Diagnostics.Activity"/> of the source named
/// <see cref="ActivitySourceName"/>.</para>
/// </remarks>
public sealed class RestorationPipeline : IDisposable
{
    private readonly StableDiffusionModels? models;
    private readonly IInvertibleTransform pixelInn;
    private readonly IInvertibleTransform? latentInn;
    private readonly bool ownsComponents;
    private readonly ILogger logger;
    private readonly Dictionary<(bool Latent, int Scale), LiftingInn> rescaledInns = new();
    private readonly SemaphoreSlim slots;

    // The pipeline whose restore this thread is running (null when none). A restore or Dispose called on that same
    // pipeline from inside one of its progress reports would wait for the restore that is waiting for it: refused.
    [ThreadStatic]
    private static RestorationPipeline? runningOnThisThread;
    private readonly CancellationTokenSource shutdown = new();
    private readonly object gate = new();
    private int inFlight;
    private bool disposed;

    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/> whose activities time each restore stage.</summary>
    public const string ActivitySourceName = "LatentIndigo.Restore";

    /// <summary>Creates a pipeline from loaded components.</summary>
    /// <param name="models">The Stable Diffusion model set, or null for <see cref="GuidanceStrategy.InnOnly"/> only.</param>
    /// <param name="pixelInn">
    /// The pixel INN (3 channels): a <see cref="LiftingInn"/>, or any other <see cref="IInvertibleTransform"/>. A custom
    /// transform must be on the models' device already and serves only its own scale factor; blind refinement, a
    /// degradation encoder and the ONNX Runtime engine need a <see cref="LiftingInn"/> (a custom transform restores with
    /// <see cref="RestoreOptions.Blind"/> unset as without refinement, and refuses <c>Blind = true</c>).
    /// </param>
    /// <param name="latentInn">A latent INN trained for the export's VAE (needed for <see cref="GuidanceStrategy.LatentInn"/>);
    /// a <see cref="LiftingInn"/> or another <see cref="IInvertibleTransform"/>, as for <paramref name="pixelInn"/>.</param>
    /// <param name="logger">Optional logger: stage timings at Information level.</param>
    /// <param name="ownsComponents">Dispose the models and INNs with the pipeline (default true).</param>
    /// <param name="maxConcurrentRestores">Restores that run at once; more wait in line (default 1). Each running
    /// restore holds its own working memory (<see cref="RestoreOptions.EstimatePeakMemoryBytes"/>, less the weights).</param>
    public RestorationPipeline(StableDiffusionModels? models, IInvertibleTransform pixelInn, IInvertibleTransform? latentInn = null,
        ILogger? logger = null, bool ownsComponents = true, int maxConcurrentRestores = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrentRestores, 1);
        MaxConcurrentRestores = maxConcurrentRestores;
        slots = new SemaphoreSlim(maxConcurrentRestores, maxConcurrentRestores);
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
        // The INNs' ONNX Runtime passes run on the models' execution provider (CUDA graphs on a GPU).
        var innSessions = InnSessionOptions.For(models, Device);
        foreach (var lifting in new[] { pixelInn as LiftingInn, latentInn as LiftingInn })
        {
            lifting?.to(Device);
            lifting?.ConfigureOnnxRuntime(innSessions);
        }
    }

    /// <summary>
    /// Loads a pipeline: the Stable Diffusion export in <paramref name="modelFolder"/> (null: INN-only), the pixel INN
    /// (bundled by default) and the optional latent INN. <paramref name="modelFolder"/> may also be a diffusers pipeline
    /// folder or a single-file checkpoint: it is converted once into the import cache
    /// (<see cref="StableDiffusionImport.ConvertCached"/>, logged with its progress) and the conversion is reused.
    /// </summary>
    public static RestorationPipeline Load(string? modelFolder, RestorationPipelineOptions? options = null, ILogger? logger = null)
    {
        options ??= new RestorationPipelineOptions();
        options.Validate();
        LiftingInn? pixel = null, latent = null;
        StableDiffusionModels? models = null;
        try
        {
            pixel = options.PixelInnPath is null ? BundledInn.Load(options.BundledPixelInn) : LoadInn(options.PixelInnPath);
            latent = options.LatentInnPath is null ? null : LoadInn(options.LatentInnPath);
            if (modelFolder is not null && StableDiffusionImport.IsImportSource(modelFolder))
            {
                modelFolder = StableDiffusionImport.ConvertCached(modelFolder, new StableDiffusionImportOptions { Logger = logger },
                    logger is null ? null : new ImportProgressLog(logger));
            }
            models = modelFolder is null ? null : StableDiffusionModels.Load(modelFolder, options.Models, logger);
            pixel.Engine = options.InnEngine;
            if (latent is not null)
            {
                latent.Engine = options.InnEngine;
            }
            return new RestorationPipeline(models, pixel, latent, logger, maxConcurrentRestores: options.MaxConcurrentRestores);
        }
        catch
        {
            models?.Dispose();
            pixel?.Dispose();
            latent?.Dispose();
            throw;
        }
    }

    /// <summary>How many restores run at once; further calls wait in line.</summary>
    public int MaxConcurrentRestores { get; }

    /// <summary>The Stable Diffusion model set, or null (INN-only).</summary>
    public StableDiffusionModels? Models => models;

    /// <summary>The pixel INN.</summary>
    public IInvertibleTransform PixelInn => pixelInn;

    /// <summary>
    /// Where restorations run: the models' device (<see cref="StableDiffusionModels.Device"/>), or the CPU without
    /// models. The constructor moves the INNs there. Inputs and results are CPU tensors whatever the device.
    /// </summary>
    public Device Device { get; }

    /// <summary>The latent INN, if any.</summary>
    public IInvertibleTransform? LatentInn => latentInn;

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
        ThrowIfReentrant("Restore");
        var o = Prepare(lowQuality, options);
        using var lease = Admit(cancellationToken);
        lease.WaitForSlot();
        return Run(lowQuality, o, progress, lease.Token);
    }

    /// <summary>
    /// Restores like <see cref="Restore(Tensor, RestoreOptions?, IProgress{RestoreProgress}?, CancellationToken)"/> on the
    /// thread pool, waiting asynchronously for a free slot when <see cref="MaxConcurrentRestores"/> restores are running.
    /// Safe to call from many threads at once; concurrent restores of the same input and options give identical images.
    /// </summary>
    public async Task<RestoreResult> RestoreAsync(Tensor lowQuality, RestoreOptions? options = null, IProgress<RestoreProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var o = Prepare(lowQuality, options);
        using var lease = Admit(cancellationToken);
        await lease.WaitForSlotAsync().ConfigureAwait(false);
        // No token for Task.Run itself: a cancellation before the start must surface through Run (ObjectDisposedException
        // after Dispose, OperationCanceledException otherwise), not as a TaskCanceledException of the wrapper.
        return await Task.Run(() => Run(lowQuality, o, progress, lease.Token)).ConfigureAwait(false);
    }

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
    /// output is checked before any work is done: an output path equal to the input throws
    /// <see cref="ImageOverwriteException"/>, a missing output folder or an existing output file throws
    /// <see cref="ImageSaveException"/> (replace an existing file with <c>new ImageSaveOptions { Overwrite = true }</c>).
    /// </summary>
    public RestoreResult RestoreFile(string inputPath, string outputPath, RestoreOptions? options = null,
        IProgress<RestoreProgress>? progress = null, ImageSaveOptions? saveOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputPath);
        ArgumentNullException.ThrowIfNull(outputPath);
        var save = (saveOptions ?? ImageSaveOptions.Default) with { SourcePath = inputPath, AllowOverwriteSource = false };
        if (Path.GetFullPath(inputPath) == Path.GetFullPath(outputPath))
        {
            throw new ImageOverwriteException(outputPath);
        }
        ImageIO.FormatFromExtension(outputPath);
        save = save with { Overwrite = save.Overwrite ?? false };
        CheckOutputPath(outputPath, save);
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

    /// <summary>The output's folder exists and the file does not, unless overwriting was asked for: before any work.</summary>
    private static void CheckOutputPath(string outputPath, ImageSaveOptions save)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(outputPath));
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new ImageSaveException(outputPath, $"the folder '{folder}' does not exist. Create it first.");
        }
        if (save.Overwrite != true && File.Exists(outputPath))
        {
            throw new ImageSaveException(outputPath, "the file exists. Choose another path, or pass new ImageSaveOptions { Overwrite = true } to replace it.");
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

    /// <summary>
    /// Checks encoded image bytes (an upload, say) against the limits of <paramref name="options"/> and
    /// <paramref name="loadOptions"/> like <see cref="CheckInputFile"/>, from the header alone, without decoding: at most
    /// <see cref="ImageLoadOptions.MaxFileBytes"/> bytes, a supported format, at most <see cref="ImageLoadOptions.MaxPixels"/>
    /// input pixels and at most <see cref="RestoreOptions.MaxOutputPixels"/> output pixels.
    /// </summary>
    /// <param name="data">The encoded image (PNG, JPEG, WebP or BMP).</param>
    /// <param name="options">The options the image will be restored with (scale factor, output limit).</param>
    /// <param name="loadOptions">The byte and pixel limits (default <see cref="ImageLoadOptions.Default"/>); decode with the same.</param>
    /// <param name="sourceName">What the messages call the image (default <c>&lt;bytes&gt;</c>); it is never opened as a path.</param>
    /// <returns>The stored width and height of the image.</returns>
    /// <exception cref="ImageLoadException">The bytes are empty, too many, not a supported image, or have too many pixels.</exception>
    /// <exception cref="InvalidRestoreInputException">The output would have more than <see cref="RestoreOptions.MaxOutputPixels"/> pixels.</exception>
    public static (int Width, int Height) CheckInput(byte[] data, RestoreOptions options, ImageLoadOptions? loadOptions = null, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        loadOptions ??= ImageLoadOptions.Default;
        loadOptions.Validate();
        string source = sourceName ?? "<bytes>";
        if (data.Length > loadOptions.MaxFileBytes)
        {
            throw new ImageFileTooLargeException(source, data.Length, loadOptions.MaxFileBytes);
        }
        var (_, width, height) = ImageIO.Identify(data, source);
        if ((long)width * height > loadOptions.MaxPixels)
        {
            throw new ImageTooLargeException(source, width, height, loadOptions.MaxPixels);
        }
        CheckOutputSize(width, height, options, $"'{source}'");
        return (width, height);
    }

    /// <summary>Cancels running and waiting restores, waits for them to stop, then frees what the pipeline owns.</summary>
    public void Dispose()
    {
        ThrowIfReentrant("Dispose");
        lock (gate)
        {
            if (disposed)
            {
                return;
            }
            disposed = true;
        }
        shutdown.Cancel();
        lock (gate)
        {
            while (inFlight > 0)
            {
                Monitor.Wait(gate);
            }
        }
        shutdown.Dispose();
        slots.Dispose();
        foreach (var inn in rescaledInns.Values)
        {
            inn.Dispose();
        }
        if (ownsComponents)
        {
            models?.Dispose();
            (pixelInn as IDisposable)?.Dispose();
            (latentInn as IDisposable)?.Dispose();
        }
    }

    internal ILogger Logger => logger;

    internal bool HasLatentInn => latentInn is not null;

    // Checks that need no slot: options, input, components. Bad input is refused before waiting in line.
    private RestoreOptions Prepare(Tensor lowQuality, RestoreOptions? options)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var o = (options ?? RestoreOptions.Default).ForExport(models?.DefaultLatentTileSize).Validate();
        CheckInput(lowQuality, o);
        CheckComponents(o);
        if (o.Strategy == GuidanceStrategy.InnOnly && o.KnownDegradation is null)
        {
            // Not an error (algorithm.md §5: without a trusted forward model the estimate is the answer), but a caller
            // who expected the INN to do something should learn why the output equals the estimate.
            logger.LogInformation(
                "INN-only without RestoreOptions.KnownDegradation: the initial estimator's output ({Estimator}) is returned unchanged; set KnownDegradation to back-project it through the INN.",
                o.InitialEstimator?.GetType().Name ?? nameof(BicubicUpscaleEstimator));
        }
        return o;
    }

    private RestoreResult Run(Tensor lowQuality, RestoreOptions o, IProgress<RestoreProgress>? progress, CancellationToken token)
    {
        var outer = runningOnThisThread;
        runningOnThisThread = this;
        try
        {
            using var run = new RestoreRun(this, lowQuality, o, progress, token);
            return run.Execute();
        }
        catch (Exception ex) when (RestoreOutOfMemoryException.IsOutOfMemory(ex))
        {
            throw RestoreOutOfMemoryException.For(ex, o, Device, RestoreRun.TileBatchSize(o, Device));
        }
        catch (OperationCanceledException ex) when (shutdown.IsCancellationRequested)
        {
            throw new ObjectDisposedException("The restoration pipeline was disposed while this restore was running or waiting.", ex);
        }
        finally
        {
            runningOnThisThread = outer;
        }
    }

    private void ThrowIfReentrant(string operation)
    {
        if (ReferenceEquals(runningOnThisThread, this))
        {
            throw new InvalidOperationException(
                $"{operation} was called on this pipeline from inside a progress report of one of its own restores, on the same "
                + "thread: it would wait for that restore, which waits for the report to return. Call it from another thread "
                + "(e.g. RestoreAsync without blocking on it), after the restore returns, or use a second pipeline.");
        }
    }

    // Counts a restore in flight (so Dispose waits for it) and links the caller's token to the pipeline's shutdown.
    private Lease Admit(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            inFlight++;
        }
        return new Lease(this, CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, shutdown.Token));
    }

    /// <summary>One admitted restore: its linked token and, once granted, its concurrency slot.</summary>
    private sealed class Lease(RestorationPipeline owner, CancellationTokenSource linked) : IDisposable
    {
        private bool holdsSlot;

        public CancellationToken Token => linked.Token;

        public void WaitForSlot()
        {
            try
            {
                owner.slots.Wait(linked.Token);
            }
            catch (OperationCanceledException ex) when (owner.shutdown.IsCancellationRequested)
            {
                throw new ObjectDisposedException("The restoration pipeline was disposed while this restore was waiting.", ex);
            }
            holdsSlot = true;
        }

        public async Task WaitForSlotAsync()
        {
            try
            {
                await owner.slots.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (owner.shutdown.IsCancellationRequested)
            {
                throw new ObjectDisposedException("The restoration pipeline was disposed while this restore was waiting.", ex);
            }
            holdsSlot = true;
        }

        public void Dispose()
        {
            if (holdsSlot)
            {
                owner.slots.Release();
            }
            linked.Dispose();
            lock (owner.gate)
            {
                owner.inFlight--;
                Monitor.PulseAll(owner.gate);
            }
        }
    }

    /// <summary>
    /// The INN for a scale factor. The lifting weights are shared across levels, so an INN trained for ×4 (J = 2) serves
    /// ×2 (J = 1), ×8 (J = 3) and same-size restoration (J = 0) with the same weights and a different number of levels.
    /// </summary>
    internal IInvertibleTransform InnForScale(bool latent, int scale)
    {
        var inn = latent ? latentInn! : pixelInn;
        if (inn.ScaleFactor == scale)
        {
            return inn;
        }
        if (inn is not LiftingInn lifting)
        {
            throw new LatentIndigoException(
                $"The {(latent ? "latent" : "pixel")} transform ({inn.GetType().Name}) restores ×{inn.ScaleFactor} only; ×{scale} was asked. "
                + "Only a LiftingInn serves other factors (with its weights at another number of levels): ask for ×" + inn.ScaleFactor + " or pass one for ×" + scale + ".");
        }
        lock (rescaledInns)
        {
            if (!rescaledInns.TryGetValue((latent, scale), out var rescaled))
            {
                int levels = System.Numerics.BitOperations.Log2((uint)scale);
                rescaled = lifting.Copy(levels);
                rescaledInns[(latent, scale)] = rescaled;
                logger.LogInformation("Using the {Kind} INN (trained for ×{Trained}) with {Levels} level(s) for ×{Scale}.",
                    latent ? "latent" : "pixel", inn.ScaleFactor, levels, scale);
            }
            return rescaled;
        }
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
            string convert = image.is_floating_point()
                ? "Convert with .to(ScalarType.Float32) (values stay in [0,1]; divide by 255 first only if they are 0..255)"
                : "Convert with .to(ScalarType.Float32) / 255 (8-bit data)";
            throw new InvalidRestoreInputException($"Expected float32 values in [0,1]; got {image.dtype}. {convert}, or use ImageIO.Load.");
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
