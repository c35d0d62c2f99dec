namespace LatentIndigo.Web.Hosting;

/// <summary>
/// The demo's configuration (section <c>Demo</c> of appsettings.json, environment variables <c>Demo__Name</c>, or the
/// command-line switches of <see cref="DemoCommandLine"/>). Every limit protects the server from what strangers upload.
/// </summary>
public sealed class DemoSettings
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Demo";

    /// <summary>
    /// What <c>RestorationPipeline.Load</c> accepts: a Stable Diffusion ONNX export folder, a diffusers pipeline folder or a
    /// single-file checkpoint (<c>.safetensors</c>, <c>.ckpt</c>), the last two converted once into the import cache
    /// (<see cref="ImportCacheFolder"/>) and reused on later starts; null: INN-only.
    /// </summary>
    public string? Model { get; set; }

    /// <summary>
    /// Where a diffusers folder or checkpoint given as <see cref="Model"/> is converted; null: the library's default
    /// (<c>LATENTINDIGO_IMPORT_CACHE</c>, else <c>LatentIndigo/imports</c> in the user's local application data).
    /// </summary>
    public string? ImportCacheFolder { get; set; }

    /// <summary>Run the full pipeline on generated stand-in models with random weights (a plumbing demo).</summary>
    public bool StandIn { get; set; }

    /// <summary>Pixel INN: bundled name (bicubic-x4, realworld-x4) or weights file; null: the library's default.</summary>
    public string? Inn { get; set; }

    /// <summary>Latent INN file trained for the export's VAE; with <see cref="StandIn"/> an untrained one is used.</summary>
    public string? LatentInn { get; set; }

    /// <summary>An <c>latent-indigo eval</c> output folder shown read-only in the Evaluation view; null: none.</summary>
    public string? EvalFolder { get; set; }

    /// <summary>Folder of the bundled sample images; null: the <c>samples</c> folder next to the app.</summary>
    public string? SamplesFolder { get; set; }

    /// <summary>Restores that run at once (the pipeline's <c>maxConcurrentRestores</c>); more wait in line.</summary>
    public int MaxConcurrentRestores { get; set; } = 1;

    /// <summary>Jobs that may wait in line; more are refused with 503.</summary>
    public int MaxQueuedJobs { get; set; } = 16;

    /// <summary>Largest upload in bytes (the library's <c>ImageLoadOptions.MaxFileBytes</c> for uploads).</summary>
    public long MaxUploadBytes { get; set; } = 20L * 1024 * 1024;

    /// <summary>Largest input in megapixels (the library's <c>ImageLoadOptions.MaxPixels</c> for uploads).</summary>
    public double MaxInputMegapixels { get; set; } = 4;

    /// <summary>Largest output in megapixels (the library's <c>RestoreOptions.MaxOutputPixels</c>).</summary>
    public double MaxOutputMegapixels { get; set; } = 16;

    /// <summary>Largest working memory one restore may need, in MiB (from <c>RestoreOptions.EstimatePeakMemoryBytes</c>).</summary>
    public long MaxRestoreMemoryMiB { get; set; } = 16 * 1024;

    /// <summary>Most sampling steps a request may ask for.</summary>
    public int MaxSteps { get; set; } = 200;

    /// <summary>How long a finished job's result is kept, in seconds.</summary>
    public double ResultLifetimeSeconds { get; set; } = 30 * 60;

    /// <summary>Most result bytes (PNG) kept in memory; the oldest finished results are dropped first.</summary>
    public long MaxStoredResultBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Most jobs remembered (queued, running and finished); the oldest finished are dropped first.</summary>
    public int MaxJobs { get; set; } = 200;

    /// <summary>
    /// Seconds a running or queued job waits for a new events subscriber after the last one disconnected, before it is
    /// cancelled (a browser's EventSource reconnects within about 3 s).
    /// </summary>
    public double DisconnectGraceSeconds { get; set; } = 10;

    /// <summary>Checks the values; throws with the setting's name.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new InvalidOperationException($"Configuration {Section}:{message}");
            }
        }
        Require(!(StandIn && Model is not null), "Model and StandIn: use either --model or --stand-in, not both.");
        Require(MaxConcurrentRestores is >= 1 and <= 64, $"MaxConcurrentRestores must be 1-64; got {MaxConcurrentRestores}.");
        Require(MaxQueuedJobs is >= 0 and <= 10_000, $"MaxQueuedJobs must be 0-10000; got {MaxQueuedJobs}.");
        Require(MaxUploadBytes > 0, $"MaxUploadBytes must be positive; got {MaxUploadBytes}.");
        Require(MaxInputMegapixels > 0, $"MaxInputMegapixels must be positive; got {MaxInputMegapixels}.");
        Require(MaxOutputMegapixels > 0, $"MaxOutputMegapixels must be positive; got {MaxOutputMegapixels}.");
        Require(MaxRestoreMemoryMiB > 0, $"MaxRestoreMemoryMiB must be positive; got {MaxRestoreMemoryMiB}.");
        Require(MaxSteps is >= 1 and <= 999, $"MaxSteps must be 1-999; got {MaxSteps}.");
        Require(ResultLifetimeSeconds > 0, $"ResultLifetimeSeconds must be positive; got {ResultLifetimeSeconds}.");
        Require(MaxStoredResultBytes > 0, $"MaxStoredResultBytes must be positive; got {MaxStoredResultBytes}.");
        Require(MaxJobs >= 1, $"MaxJobs must be at least 1; got {MaxJobs}.");
        Require(DisconnectGraceSeconds >= 0, $"DisconnectGraceSeconds must be 0 or more; got {DisconnectGraceSeconds}.");
    }
}
