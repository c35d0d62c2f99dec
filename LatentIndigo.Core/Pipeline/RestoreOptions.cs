using LatentIndigo.Degradations;
using LatentIndigo.Diffusion;
using LatentIndigo.Guidance;

namespace LatentIndigo.Pipeline;

/// <summary>
/// Everything a restoration can be told, immutable, with the defaults of algorithm.md §7 (INDIGO+ values where they
/// exist). Build variations with <c>with</c>: <c>RestoreOptions.Default with { Steps = 30 }</c>. Call
/// <see cref="Validate"/> (the pipeline does) to get one error listing every out-of-range value.
/// </summary>
public sealed record RestoreOptions
{
    /// <summary>
    /// The defaults: PixelInn guidance, ×4, a 50-step DDIM schedule entered at strength 0.57 (t = 541, the last 28 steps
    /// run), η 0.5, blind refinement on unless <see cref="KnownDegradation"/> is given. docs/algorithm.md §8 lists
    /// where each default comes from.
    /// </summary>
    public static RestoreOptions Default { get; } = new();

    /// <summary>Guidance strategy. Default <see cref="GuidanceStrategy.PixelInn"/>.</summary>
    public GuidanceStrategy Strategy { get; init; } = GuidanceStrategy.PixelInn;

    /// <summary>Output size / input size: a power of two 1, 2, 4 or 8 (1 = same-size denoise/deblur/JPEG removal). Default 4.</summary>
    public int ScaleFactor { get; init; } = 4;

    /// <summary>Number of DDIM steps of the full schedule (only those after the start timestep run). 1–999 (Stable Diffusion's 1000-timestep schedule). Default 50.</summary>
    public int Steps { get; init; } = 50;

    /// <summary>
    /// How much noise the initial estimate gets, as a fraction of the schedule (img2img strength, 0–1], as diffusers
    /// computes it: the last ⌊Steps·Strength⌋ steps of the DDIM schedule run. The default 0.57 with 50 steps runs 28
    /// steps from t = 541 (SD's scaled-linear schedule: ᾱ ≈ 0.22), near INDIGO+'s starting noise level.
    /// Ignored when <see cref="StartTimestep"/> is set.
    /// </summary>
    public double Strength { get; init; } = 0.57;

    /// <summary>Explicit start timestep (0 to the number of training timesteps − 1); null uses <see cref="Strength"/>.</summary>
    public int? StartTimestep { get; init; }

    /// <summary>DDIM η (0 = deterministic DDIM, 1 = DDPM-like). Default 0.5 (INDIGO+).</summary>
    public double Eta { get; init; } = 0.5;

    /// <summary>Guidance step size s. Null picks 1.0 for pixel guidance and 0.5 for latent guidance.</summary>
    public double? GuidanceStepSize { get; init; }

    /// <summary>Weight w0 of the coarse term ‖y − coarse‖. Default 1 (INDIGO+ real-world).</summary>
    public double CoarseWeight { get; init; } = 1.0;

    /// <summary>Weight w1 of the consistency term ‖x_inv − x̂‖². Default 0.5 (INDIGO+ real-world).</summary>
    public double ConsistencyWeight { get; init; } = 0.5;

    /// <summary>Fraction of the first sampling steps run without guidance (0–1). Default 0: guide every step.</summary>
    public double GuidanceSkipFraction { get; init; }

    /// <summary>Re-noise with ε recomputed from the guided ẑ0 (true, default) or keep the UNet's ε (INDIGO+ code).</summary>
    public bool RecomputeNoiseAfterGuidance { get; init; } = true;

    /// <summary>Manifold regularisation z0 ← z0 − ρ(z0 − E(D(z0))). Default on.</summary>
    public bool ManifoldRegularization { get; init; } = true;

    /// <summary>ρ of the manifold regularisation, (0,1]. Default 0.2.</summary>
    public double ManifoldRho { get; init; } = 0.2;

    /// <summary>Apply the manifold regularisation every k guided steps. Null: 5 for latent guidance, 1 for pixel guidance.</summary>
    public int? ManifoldEveryKSteps { get; init; }

    /// <summary>
    /// Blind mode: refine the INN's forward model on the observation during sampling (Adam on MSE(y, coarse(x̂))),
    /// with the weights reset after each image, as the paper does for unknown degradations. Null (default): on when
    /// <see cref="KnownDegradation"/> is null, off when it is given. Has no effect on <see cref="GuidanceStrategy.InnOnly"/>
    /// and <see cref="GuidanceStrategy.None"/> (no prior estimate to refine against).
    /// </summary>
    public bool? Blind { get; init; }

    /// <summary>Whether blind refinement runs: <see cref="Blind"/>, or by default whenever the degradation is unknown.</summary>
    public bool EffectiveBlind => Blind ?? KnownDegradation is null;

    /// <summary>Adam learning rate of blind refinement. Default 5e-5 (INDIGO+).</summary>
    public double RefinementLearningRate { get; init; } = 5e-5;

    /// <summary>Adam steps of blind refinement per sampling step. Default 1.</summary>
    public int RefinementStepsPerSamplingStep { get; init; } = 1;

    /// <summary>
    /// The degradation that produced the input, when known (synthetic inputs). Its scale factor must equal
    /// <see cref="ScaleFactor"/>; the result then reports the PSNR of the re-degraded output against the input.
    /// </summary>
    public IDegradationModel? KnownDegradation { get; init; }

    /// <summary>Take the output's low frequencies from the initial estimate (wavelet colour fix). Default on.</summary>
    public bool ColorFix { get; init; } = true;

    /// <summary>
    /// The measurement-consistent finish, this project's addition (not in the paper): back-project the final image
    /// (pixel guidance) or latent (latent guidance) onto the observation through the INN's forward model, so that
    /// it re-degrades to the input, up to the input's estimated noise level (docs/algorithm.md §5). Null (default): on
    /// only when <see cref="KnownDegradation"/> is given (a known synthetic degradation, which the INN models); on a
    /// real-world input it would copy the observed noise and JPEG artefacts back into the output. INN-only restoration
    /// always back-projects: that is the method.
    /// </summary>
    public bool? MeasurementConsistentFinish { get; init; }

    /// <summary>Whether the measurement-consistent finish runs: <see cref="MeasurementConsistentFinish"/>, or by default only for a known degradation.</summary>
    public bool EffectiveMeasurementConsistentFinish => MeasurementConsistentFinish ?? KnownDegradation is not null;

    /// <summary>
    /// Latent tile size (latent pixels; 64 = 512 image pixels). Larger latents are tiled, and the INN passes over the
    /// whole output (finish, quality figure) run in windows of the same pixel size (INN-only's back-projection, which
    /// keeps no autograd graph, in windows 4× wider per side), so memory is bounded by the tile. Null (default): the export's
    /// <see cref="Diffusion.StableDiffusionModels.DefaultLatentTileSize"/> (its static UNet size, else
    /// <c>unet/config.json</c> <c>sample_size</c>: 64 for SD 1.x / 2.x base, 96 for SD 2.x 768-v), 64 without one.
    /// </summary>
    public int? LatentTileSize { get; init; }

    /// <summary>
    /// Overlap between neighbouring latent tiles (latent pixels), less than the tile size. Null (default): half the
    /// tile, rounded down to a multiple of 8 (32 for 64).
    /// </summary>
    public int? LatentTileOverlap { get; init; }

    /// <summary>The latent tile size in use (after <see cref="ForExport"/>; 64 when neither caller nor export states one).</summary>
    internal int Tile => LatentTileSize ?? 64;

    /// <summary>INN-only windows are this many times the diffusion tile's pixel size per side (2048 pixels at tile 64).</summary>
    internal const int InnOnlyWindowFactor = 4;

    /// <summary>The core side, in output pixels, of the windows INN-only's back-projection runs its INN passes in.</summary>
    internal int InnOnlyWindowCore => Tile * 8 * InnOnlyWindowFactor;

    /// <summary>
    /// How the back-projections of INN-only restores and of the pixel finish choose their corrections (internal: the
    /// benchmarks run the method before issue 24 side by side with the current one).
    /// </summary>
    internal Invertible.BackProjectionMethod BackProjectionMethod { get; init; }

    /// <summary>The latent tile overlap in use.</summary>
    internal int TileOverlap => LatentTileOverlap ?? Tile / 2 / 8 * 8;

    /// <summary>These options with the export's default tile size where the caller left it open.</summary>
    internal RestoreOptions ForExport(int? exportTileSize) =>
        LatentTileSize is null && exportTileSize is { } t ? this with { LatentTileSize = t } : this;

    /// <summary>
    /// Latent tiles that go through the UNet, the guidance and the manifold regularisation together, as one batch.
    /// Null (default) picks 8 for <see cref="GuidanceStrategy.LatentInn"/> on a GPU, where the latent INN step is
    /// launch-bound and a batch of 8 costs little more than one tile (5× less INN time at 2048×2048 on an H100), and 1
    /// otherwise: on the CPU a batch is no faster and memory stays at one tile's working set; pixel guidance batches
    /// hold 8 decoded tiles' autograd graphs (13 GB of GPU memory at 8, 1.4× faster), and without guidance only the
    /// UNet would batch. Results match the one-by-one order up to float rounding; in blind mode each refinement step
    /// uses the batch's loss.
    /// </summary>
    public int? TileBatchSize { get; init; }

    /// <summary>
    /// Largest accepted output (width × height after scaling); larger requests are refused up front, from the file header
    /// for <see cref="RestorationPipeline.RestoreFile"/>. Default 16 MP: by <see cref="EstimatePeakMemoryBytes"/> about
    /// 2.9 GiB INN-only, 2.9 GiB with <see cref="GuidanceStrategy.None"/> or <see cref="GuidanceStrategy.LatentInn"/> and
    /// 7.7 GiB with <see cref="GuidanceStrategy.PixelInn"/> at the default tile, plus the export's weights.
    /// </summary>
    public long MaxOutputPixels { get; init; } = 16_000_000;

    /// <summary>Seed of all noise drawn by the restoration. Same seed and inputs ⇒ identical output. Default 12345.</summary>
    public long Seed { get; init; } = 12345;

    /// <summary>Text prompt for the UNet. Default empty (no text conditioning).</summary>
    public string Prompt { get; init; } = "";

    /// <summary>Negative prompt, used with classifier-free guidance. Default empty.</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>Classifier-free guidance scale; 1 disables CFG (one UNet run per step). Default 1.</summary>
    public double ClassifierFreeGuidanceScale { get; init; } = 1.0;

    /// <summary>
    /// Compute <see cref="RestoreResult.CoarsePsnr"/> and <see cref="RestoreResult.MeasurementPsnr"/> (one pixel-INN
    /// forward and one degradation of the output). Default on; turn off to save that time in batch runs.
    /// </summary>
    public bool ComputeQualityMetrics { get; init; } = true;

    /// <summary>The initial estimator; null uses bicubic upscaling.</summary>
    public IInitialEstimator? InitialEstimator { get; init; }

    /// <summary>
    /// The guidance, when not the strategy's own: any <see cref="ILatentGuidanceFactory"/> (yours, or
    /// <see cref="PixelInnGuidance.Factory"/> / <see cref="LatentInnGuidance.Factory"/>). It replaces the guidance of
    /// <see cref="GuidanceStrategy.PixelInn"/> or <see cref="GuidanceStrategy.LatentInn"/>; the strategy still decides
    /// the measurement-consistent finish and the defaults that depend on it. Not allowed with
    /// <see cref="GuidanceStrategy.None"/> or <see cref="GuidanceStrategy.InnOnly"/>. Default null.
    /// </summary>
    public ILatentGuidanceFactory? Guidance { get; init; }

    /// <summary>The sampler by name: DDIM (default, INDIGO+'s), DDPM or Euler ancestral (<see cref="SamplerNames.Parse"/> reads names).</summary>
    public SamplerKind Sampler { get; init; } = SamplerKind.Ddim;

    /// <summary>
    /// A sampler of your own: called once per restore with a copy of the export's scheduler config and disposed after
    /// it (samplers keep per-run state, so a pipeline serving concurrent restores needs one per restore). Overrides
    /// <see cref="Sampler"/>. Not allowed with <see cref="GuidanceStrategy.InnOnly"/> (no sampling). Default null.
    /// </summary>
    public Func<SchedulerConfig, ILatentSampler>? SamplerFactory { get; init; }

    /// <summary>The guidance this restore runs: <see cref="Guidance"/>, else the strategy's; null without guidance.</summary>
    internal ILatentGuidanceFactory? GuidanceFactory => Guidance ?? Strategy switch
    {
        GuidanceStrategy.PixelInn => PixelInnGuidance.Factory,
        GuidanceStrategy.LatentInn => LatentInnGuidance.Factory,
        _ => null,
    };

    /// <summary>The guidance step size in effect for the strategy.</summary>
    internal double EffectiveGuidanceStepSize => GuidanceStepSize ?? (Strategy == GuidanceStrategy.LatentInn ? 0.5 : 1.0);

    /// <summary>The manifold-regularisation period in effect for the strategy.</summary>
    internal int EffectiveManifoldEveryKSteps => ManifoldEveryKSteps ?? (Strategy == GuidanceStrategy.LatentInn ? 5 : 1);

    /// <summary>
    /// An upper estimate, in bytes, of the peak memory one restoration of an input of this size takes with these options
    /// (process memory on the CPU), without the Stable Diffusion export's own weights (add the size of its ONNX files).
    /// A fixed part (runtime, libtorch, one latent tile's working set, which grows with the tile area and batch) plus a
    /// part per output pixel (the image-sized buffers); the constants sit above the peaks measured on the CPU, listed in
    /// docs/usage.md ("Memory").
    /// </summary>
    /// <param name="inputWidth">Input width in pixels.</param>
    /// <param name="inputHeight">Input height in pixels.</param>
    public long EstimatePeakMemoryBytes(int inputWidth, int inputHeight)
    {
        const long MiB = 1L << 20;
        long outputPixels = (long)inputWidth * ScaleFactor * inputHeight * ScaleFactor;
        double tileArea = Tile / 64.0 * (Tile / 64.0) * (TileBatchSize ?? 1);
        return Strategy switch
        {
            // One INN window's activations (ONNX Runtime, no autograd): about 120 bytes per window pixel, measured.
            GuidanceStrategy.InnOnly => 450 * MiB + 128 * outputPixels + 120 * Math.Min(outputPixels, InnOnlyWindowPixels),
            // Pixel guidance keeps the autograd graph of an INN pass over one decoded tile (2.9 GB at tile 64).
            GuidanceStrategy.PixelInn => 400 * MiB + (long)(2900 * MiB * tileArea) + 300 * outputPixels,
            _ => 400 * MiB + (long)(150 * MiB * tileArea) + 160 * outputPixels,
        };
    }

    // An INN-only window: its core plus the INN's context margin (16·2^J pixels, 64 for the ×4 INNs) on each side.
    private long InnOnlyWindowPixels
    {
        get
        {
            long side = InnOnlyWindowCore + Math.Max(128, 32 * ScaleFactor);
            return side * side;
        }
    }

    /// <summary>Throws <see cref="InvalidRestoreOptionsException"/> listing every invalid value; returns this otherwise.</summary>
    public RestoreOptions Validate()
    {
        var problems = new List<string>();
        void Require(bool ok, string message)
        {
            if (!ok)
            {
                problems.Add(message);
            }
        }
        Require(ScaleFactor is 1 or 2 or 4 or 8, $"ScaleFactor must be 1, 2, 4 or 8 (2^J); got {ScaleFactor}.");
        // Stable Diffusion's schedule has 1000 timesteps and "leading" spacing with steps_offset 1: 1000 steps would put
        // the first at t = 1000, outside it (every image would fail at its first step).
        Require(Steps is >= 1 and <= 999,
            $"Steps must be 1–999 (Stable Diffusion's schedule has 1000 timesteps, and its steps_offset 1 puts a 1000-step schedule's first step at t = 1000, outside it); got {Steps}.");
        Require(Strength is > 0 and <= 1 && !double.IsNaN(Strength), $"Strength must be in (0, 1]; got {Strength}.");
        Require(StartTimestep is null or >= 0, $"StartTimestep must be ≥ 0; got {StartTimestep}.");
        Require(Eta is >= 0 and <= 1, $"Eta must be in [0, 1]; got {Eta}.");
        Require(GuidanceStepSize is null or (>= 0 and < 1000), $"GuidanceStepSize must be in [0, 1000); got {GuidanceStepSize}.");
        Require(CoarseWeight >= 0 && double.IsFinite(CoarseWeight), $"CoarseWeight must be ≥ 0; got {CoarseWeight}.");
        Require(ConsistencyWeight >= 0 && double.IsFinite(ConsistencyWeight), $"ConsistencyWeight must be ≥ 0; got {ConsistencyWeight}.");
        Require(GuidanceSkipFraction is >= 0 and < 1, $"GuidanceSkipFraction must be in [0, 1); got {GuidanceSkipFraction}.");
        Require(ManifoldRho is > 0 and <= 1, $"ManifoldRho must be in (0, 1]; got {ManifoldRho}.");
        Require(ManifoldEveryKSteps is null or >= 1, $"ManifoldEveryKSteps must be ≥ 1; got {ManifoldEveryKSteps}.");
        Require(RefinementLearningRate is > 0 and < 1, $"RefinementLearningRate must be in (0, 1); got {RefinementLearningRate}.");
        Require(RefinementStepsPerSamplingStep is >= 1 and <= 100, $"RefinementStepsPerSamplingStep must be 1–100; got {RefinementStepsPerSamplingStep}.");
        Require(Tile is >= 8 and <= 1024, $"LatentTileSize must be 8–1024 latent pixels; got {Tile}.");
        Require(TileOverlap >= 0 && TileOverlap < Tile,
            $"LatentTileOverlap must be ≥ 0 and less than LatentTileSize ({Tile}); got {TileOverlap}.");
        Require(Tile % 8 == 0 && TileOverlap % 8 == 0,
            $"LatentTileSize and LatentTileOverlap must be multiples of 8 (tile offsets must map to whole low-quality pixels); got {Tile} and {TileOverlap}.");
        Require(TileBatchSize is null or (>= 1 and <= 64), $"TileBatchSize must be 1–64 (or null for automatic); got {TileBatchSize}.");
        Require(MaxOutputPixels > 0, $"MaxOutputPixels must be positive; got {MaxOutputPixels}.");
        Require(ClassifierFreeGuidanceScale is >= 1 and <= 30, $"ClassifierFreeGuidanceScale must be 1–30; got {ClassifierFreeGuidanceScale}.");
        Require(Prompt is not null && NegativePrompt is not null, "Prompt and NegativePrompt must not be null (use \"\").");
        Require(Guidance is null || Strategy is GuidanceStrategy.PixelInn or GuidanceStrategy.LatentInn,
            $"Guidance '{Guidance?.Name}' replaces the guidance of the PixelInn or LatentInn strategy; Strategy is {Strategy}, which runs none.");
        Require(SamplerFactory is null || Strategy != GuidanceStrategy.InnOnly,
            "SamplerFactory is set, but Strategy is InnOnly, which runs no diffusion sampler; leave it null or choose a diffusion strategy.");
        Require(Enum.IsDefined(Sampler), $"Sampler must be one of {string.Join(", ", Enum.GetNames<SamplerKind>())}; got {Sampler}.");
        Require(KnownDegradation is null || KnownDegradation.ScaleFactor == ScaleFactor,
            $"KnownDegradation '{KnownDegradation?.Spec}' scales by {KnownDegradation?.ScaleFactor}, but ScaleFactor is {ScaleFactor}.");
        if (problems.Count > 0)
        {
            throw new InvalidRestoreOptionsException(problems);
        }
        return this;
    }
}
