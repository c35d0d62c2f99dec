using System.Diagnostics;
using LatentIndigo.Diffusion;
using LatentIndigo.Guidance;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>One restoration: the state of a single <see cref="RestorationPipeline.Restore(Tensor, RestoreOptions?, IProgress{RestoreProgress}?, CancellationToken)"/> call.</summary>
internal sealed class RestoreRun
{
    private readonly RestorationPipeline pipeline;
    private readonly Tensor input;
    private readonly RestoreOptions options;
    private readonly IProgress<RestoreProgress>? progress;
    private readonly CancellationToken cancellationToken;
    private readonly Stopwatch total = Stopwatch.StartNew();
    private readonly Dictionary<RestoreStage, TimeSpan> stageTimes = new();
    private readonly Stopwatch stageClock = new();
    private RestoreStage stage;
    private TimeSpan unetTime, vaeTime, innTime;
    private int stepsDone;
    private InnTiling? pixelTiling;
    private InnRefiner? refiner;
    private IDisposable? refinedImage;
    private double? noiseSigma;

    public RestoreRun(RestorationPipeline pipeline, Tensor input, RestoreOptions options, IProgress<RestoreProgress>? progress,
        CancellationToken cancellationToken)
    {
        this.pipeline = pipeline;
        this.input = input;
        this.options = options;
        this.progress = progress;
        this.cancellationToken = cancellationToken;
    }

    public RestoreResult Execute()
    {
        // The refiner's weight snapshots live in this scope, so restoring them (finally) comes before the scope ends.
        using var scope = torch.NewDisposeScope();
        try
        {
            return ExecuteCore();
        }
        finally
        {
            // The refined weights are restored only now, after the quality figures used them (RestoreResult.CoarsePsnr).
            refinedImage?.Dispose();
            refiner?.Dispose();
        }
    }

    private RestoreResult ExecuteCore()
    {
        using var noGrad = torch.no_grad();
        int scale = options.ScaleFactor;
        var pixelInn = pipeline.InnForScale(latent: false, scale);

        Enter(RestoreStage.Preparing);
        var padded = ImageTensors.PadToMultiple(input, options.Strategy == GuidanceStrategy.InnOnly ? 1 : 8);
        // The estimator contract is CPU in, CPU out; everything after it runs on the pipeline's device.
        var estimate = InitialEstimate(padded.Image, scale).to(pipeline.Device);
        var y = padded.Image.to(pipeline.Device);

        Tensor output;
        Tensor? finalLatent = null;
        double? latentCoarsePsnr = null;
        int tiles = 0;
        if (options.Strategy == GuidanceStrategy.InnOnly)
        {
            Enter(RestoreStage.Finishing);
            var finishClock = Stopwatch.StartNew();
            // Unknown degradation: no forward model to trust, so the bicubic estimate is the answer (a misfit INN made
            // the output worse than bicubic, docs/algorithm.md §5); a known one is back-projected through the INN.
            output = options.KnownDegradation is null ? estimate : BackProjectImage(pixelInn, y, estimate);
            CheckFinite(output, "INN back-projection (INN-only restoration)");
            innTime += finishClock.Elapsed;
        }
        else
        {
            (output, finalLatent, latentCoarsePsnr, tiles) = Diffuse(y, estimate, pixelInn);
        }
        output = ImageTensors.Crop(padded, output.clamp(0f, 1f), scale);

        // Quality figures on the final, cropped output (cheap: one INN forward, one degradation). The coarse PSNR uses the
        // pixel INN as it produced the result: with its refined weights in blind pixel guidance (restored afterwards).
        var clock = Stopwatch.StartNew();
        double? coarsePsnr = null;
        if (options.ComputeQualityMetrics)
        {
            using var coarse = PixelTiling.Coarse(pixelInn, output, cancellationToken: cancellationToken);
            coarsePsnr = Psnr(coarse, input.to(pipeline.Device));
        }
        innTime += clock.Elapsed;
        output = output.cpu();
        double? measurementPsnr = null;
        if (options.ComputeQualityMetrics && options.KnownDegradation is { } degradation)
        {
            var degraded = degradation.Apply(output, new Generator((ulong)options.Seed));
            measurementPsnr = degraded.shape.SequenceEqual(input.shape) ? Psnr(degraded, input) : null;
        }
        Enter(RestoreStage.Completed);
        var models = pipeline.Models;
        var result = new RestoreResult(output.MoveToOuterDisposeScope())
        {
            Strategy = options.Strategy,
            UsedGenerativePrior = options.Strategy != GuidanceStrategy.InnOnly,
            UsedStandInModels = options.Strategy != GuidanceStrategy.InnOnly && models!.IsStandIn,
            ExecutionProvider = options.Strategy == GuidanceStrategy.InnOnly ? "none (INN only)" : models!.ExecutionProvider.ToString(),
            FinalLatent = finalLatent?.cpu().MoveToOuterDisposeScope(),
            StepsRun = stepsDone,
            Tiles = tiles,
            StageTimes = new Dictionary<RestoreStage, TimeSpan>(stageTimes),
            Total = total.Elapsed,
            UnetTime = unetTime,
            VaeTime = vaeTime,
            InnTime = innTime,
            CoarsePsnr = coarsePsnr,
            LatentCoarsePsnr = latentCoarsePsnr,
            MeasurementPsnr = measurementPsnr,
        };
        pipeline.Logger.LogInformation(
            "Restored {W}×{H} → {OW}×{OH} with {Strategy} in {Total:F2} s (UNet {Unet:F2} s, VAE {Vae:F2} s, INN {Inn:F2} s); coarse PSNR {Psnr} dB.",
            input.shape[3], input.shape[2], output.shape[3], output.shape[2], options.Strategy, total.Elapsed.TotalSeconds,
            unetTime.TotalSeconds, vaeTime.TotalSeconds, innTime.TotalSeconds, coarsePsnr?.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) ?? "-");
        return result;
    }

    private Tensor InitialEstimate(Tensor y, int scale)
    {
        var estimator = options.InitialEstimator ?? BicubicUpscaleEstimator.Instance;
        var estimate = estimator.Estimate(y, scale, cancellationToken);
        var expected = new[] { 1L, 3, y.shape[2] * scale, y.shape[3] * scale };
        if (!estimate.shape.SequenceEqual(expected) || estimate.dtype != ScalarType.Float32)
        {
            throw new LatentIndigoException(
                $"The initial estimator {estimator.GetType().Name} returned [{string.Join(",", estimate.shape)}] {estimate.dtype}; expected [{string.Join(",", expected)}] float32.");
        }
        CheckFinite(estimate, $"initial estimate ({estimator.GetType().Name})");
        return estimate.clamp(0f, 1f);
    }

    private (Tensor Output, Tensor FinalLatent, double? LatentCoarsePsnr, int Tiles) Diffuse(Tensor y, Tensor estimate, LiftingInn pixelInn)
    {
        var models = pipeline.Models!;
        var vae = models.Vae;
        var vaeTiling = new VaeTiling(options.Tile * 8, Math.Min(64, options.Tile * 4));
        bool latentStrategy = options.Strategy == GuidanceStrategy.LatentInn;
        var latentInn = latentStrategy ? pipeline.InnForScale(latent: true, options.ScaleFactor) : null;

        Enter(RestoreStage.Encoding);
        var clock = Stopwatch.StartNew();
        var startLatent = vae.Encode(estimate, vaeTiling, cancellationToken: cancellationToken);
        CheckFinite(startLatent, "VAE encoder output (latent of the initial estimate)");
        var observedLatent = latentStrategy ? vae.Encode(y, vaeTiling, cancellationToken: cancellationToken) : null;
        if (observedLatent is not null)
        {
            CheckFinite(observedLatent, "VAE encoder output (latent of the input)");
        }
        vaeTime += clock.Elapsed;
        var conditioning = models.EncodePrompt(options.Prompt, options.NegativePrompt, options.ClassifierFreeGuidanceScale);

        using var sampler = models.CreateSampler();
        var generator = new Generator((ulong)options.Seed);
        sampler.Generator = generator;
        sampler.SetTimesteps(options.Steps);
        var timesteps = options.StartTimestep is int start ? sampler.TimestepsFrom(start) : sampler.TimestepsForStrength(options.Strength);
        // Drawn on the CPU: a seed gives the same start on every device.
        var noise = torch.randn(startLatent.shape, generator: generator).to(startLatent.device);
        var latent = sampler.AddNoise(startLatent, noise, timesteps[0]);

        var inn = latentStrategy ? latentInn : pixelInn;
        // Disposed by Execute once the quality figures are computed, which restores the INN's weights.
        refiner = options.EffectiveBlind && options.Strategy != GuidanceStrategy.None
            ? new InnRefiner(inn!, options.RefinementLearningRate)
            : null;
        refinedImage = refiner?.BeginImage();
        var guidance = CreateGuidance(vae, pixelInn, latentInn, refiner);

        Enter(RestoreStage.Sampling);
        int height = (int)latent.shape[2], width = (int)latent.shape[3];
        var windows = LatentTiling.Windows(height, width, options.Tile, options.Tile - options.TileOverlap);
        var weights = (windows.Count == 1
            ? torch.ones(windows[0].Height, windows[0].Width)
            : LatentTiling.GaussianWeights(windows[0].Height, windows[0].Width)).to(latent.device);
        int firstGuided = (int)Math.Floor(options.GuidanceSkipFraction * timesteps.Count);
        var observation = observedLatent ?? y;
        // A latent pixel covers 8 image pixels, i.e. 8/s low-quality pixels (pixel guidance) or 1/s latent pixels of E(y).
        int observationScale = options.ScaleFactor;
        int pixelsPerLatent = latentStrategy ? 1 : 8;
        Tensor finalLatent = latent;
        int batchSize = TileBatchSize(options, latent.device);
        var samplingClock = Stopwatch.StartNew();
        for (int i = 0; i < timesteps.Count; i++)
        {
            int t = timesteps[i];
            bool guided = guidance is not null && i >= firstGuided;
            bool refine = guided && refiner is not null && i < timesteps.Count - 1;
            bool regularize = guided && options.ManifoldRegularization && (i - firstGuided) % options.EffectiveManifoldEveryKSteps == 0;
            using var stepScope = torch.NewDisposeScope();
            var originalSum = torch.zeros_like(latent);
            var noiseSum = torch.zeros_like(latent);
            var weightSum = torch.zeros(1, 1, height, width, device: latent.device);
            for (int first = 0; first < windows.Count; first += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Per-batch intermediates (crops, ẑ0, guided tiles) are freed as soon as they are blended in.
                using var batchScope = torch.NewDisposeScope();
                int count = Math.Min(batchSize, windows.Count - first);
                var batch = windows.Skip(first).Take(count).ToList();
                var tiles = Stack(latent, batch, 1);
                clock.Restart();
                var modelInput = sampler.ScaleModelInput(tiles, t);
                var modelOutput = models.Unet.PredictNoise(modelInput, t, conditioning, cancellationToken);
                unetTime += clock.Elapsed;
                string where = $"step {i + 1}/{timesteps.Count}, tile {first + 1}/{windows.Count}";
                CheckFinite(modelOutput, $"UNet output at {where}");
                using var prediction = sampler.PredictOriginal(modelOutput, t, tiles);
                var original = prediction.PredictedOriginal;
                if (guided)
                {
                    // The observation crop under each tile: latent px × 8 / s pixels of y, or latent px / s of E(y).
                    var observed = Stack(observation, batch, (double)pixelsPerLatent / observationScale);
                    string guidanceStage = $"{options.Strategy} guidance (INN) at {where}";
                    original = NonFiniteInside(guidanceStage, () => guidance!.Guide(original, observed, refine, cancellationToken));
                    CheckFinite(original, guidanceStage);
                }
                if (regularize)
                {
                    clock.Restart();
                    string manifoldStage = $"manifold regularisation (VAE decode and encode) at {where}";
                    original = NonFiniteInside(manifoldStage, () => ManifoldRegularization.Apply(vae, original, options.ManifoldRho, cancellationToken));
                    vaeTime += clock.Elapsed;
                    CheckFinite(original, manifoldStage);
                }
                for (int j = 0; j < count; j++)
                {
                    var w = batch[j];
                    originalSum.narrow(2, w.Top, w.Height).narrow(3, w.Left, w.Width).add_(original.narrow(0, j, 1) * weights);
                    noiseSum.narrow(2, w.Top, w.Height).narrow(3, w.Left, w.Width).add_(prediction.PredictedNoise.narrow(0, j, 1) * weights);
                    weightSum.narrow(2, w.Top, w.Height).narrow(3, w.Left, w.Width).add_(weights);
                    Report(RestoreStage.Sampling, i + 1, timesteps.Count, first + j, windows.Count, samplingClock.Elapsed);
                }
            }
            var blendedOriginal = originalSum / weightSum;
            var blendedNoise = noiseSum / weightSum;
            using var update = sampler.StepFromOriginal(blendedOriginal, t, latent, options.Eta, null,
                options.RecomputeNoiseAfterGuidance ? null : blendedNoise);
            // Keep only the current latent and ẑ0 alive across steps: memory does not grow with the step count.
            var previousLatent = latent;
            var previousFinal = finalLatent;
            CheckFinite(update.PrevSample, $"sampler update at step {i + 1}/{timesteps.Count}");
            latent = update.PrevSample.clone().MoveToOuterDisposeScope();
            finalLatent = blendedOriginal.MoveToOuterDisposeScope();
            if (!ReferenceEquals(previousFinal, previousLatent))
            {
                previousFinal.Dispose();
            }
            previousLatent.Dispose();
            stepsDone = i + 1;
        }
        innTime += (guidance as PixelInnGuidance)?.InnTime ?? TimeSpan.Zero;
        innTime += (guidance as LatentInnGuidance)?.InnTime ?? TimeSpan.Zero;
        vaeTime += (guidance as PixelInnGuidance)?.VaeTime ?? TimeSpan.Zero;

        double? latentCoarsePsnr = null;
        if (latentStrategy)
        {
            clock.Restart();
            if (options.EffectiveMeasurementConsistentFinish)
            {
                // Back-projection onto E(y) through the latent INN; latents have no noise level to stop at, so it runs
                // its fixed number of corrections. One window unless the latent exceeds InnTiling's 512-pixel core.
                finalLatent = InnBackProjection.Apply(latentInn!, observedLatent!, finalLatent, InnTiling.Default, null,
                    noiseSigma: 0, clampToUnitRange: false, out int corrections, cancellationToken: cancellationToken);
                pipeline.Logger.LogDebug("Latent back-projection: {Corrections} corrections.", corrections);
                CheckFinite(finalLatent, "latent INN measurement-consistent finish");
            }
            using var decomposition = latentInn!.Forward(finalLatent, null);
            latentCoarsePsnr = Psnr(decomposition.Coarse, observedLatent!, peak: 2.0);
            innTime += clock.Elapsed;
        }

        Enter(RestoreStage.Decoding);
        clock.Restart();
        var decoded = vae.Decode(finalLatent, vaeTiling, cancellationToken: cancellationToken);
        CheckFinite(decoded, "VAE decoder output");
        decoded = decoded.clamp(0f, 1f);
        vaeTime += clock.Elapsed;

        Enter(RestoreStage.Finishing);
        if (options.ColorFix)
        {
            decoded = WaveletColorFix.Apply(decoded, estimate);
            CheckFinite(decoded, "colour fix");
        }
        if (options.EffectiveMeasurementConsistentFinish && options.Strategy == GuidanceStrategy.PixelInn)
        {
            clock.Restart();
            decoded = BackProjectImage(pixelInn, y, decoded.clamp(0f, 1f));
            CheckFinite(decoded, "pixel INN measurement-consistent finish");
            innTime += clock.Elapsed;
        }
        return (decoded, finalLatent, latentCoarsePsnr, windows.Count);
    }

    /// <summary>The tiles per model call: the option, or 8 for latent guidance on a GPU and 1 otherwise (RestoreOptions.TileBatchSize).</summary>
    public static int TileBatchSize(RestoreOptions options, Device device) =>
        options.TileBatchSize ?? (options.Strategy == GuidanceStrategy.LatentInn && device.type != DeviceType.CPU ? 8 : 1);

    /// <summary>
    /// The windows of <paramref name="source"/> under <paramref name="tiles"/> (latent coordinates × <paramref name="scale"/>),
    /// stacked along the batch dimension; a single window is a view, so one-by-one runs copy nothing.
    /// </summary>
    private static Tensor Stack(Tensor source, List<LatentTile> tiles, double scale)
    {
        Tensor Crop(LatentTile w) => source
            .narrow(2, (long)(w.Top * scale), (long)(w.Height * scale))
            .narrow(3, (long)(w.Left * scale), (long)(w.Width * scale));
        return tiles.Count == 1 ? Crop(tiles[0]) : torch.cat(tiles.Select(Crop).ToArray(), 0);
    }

    private ILatentGuidance? CreateGuidance(Vae vae, LiftingInn pixelInn, LiftingInn? latentInn, InnRefiner? refiner) => options.Strategy switch
    {
        GuidanceStrategy.PixelInn => new PixelInnGuidance(vae, new InnGuidanceStep(pixelInn, options.CoarseWeight, options.ConsistencyWeight),
            options.EffectiveGuidanceStepSize, refiner, options.RefinementStepsPerSamplingStep),
        GuidanceStrategy.LatentInn => new LatentInnGuidance(new InnGuidanceStep(latentInn!, options.CoarseWeight, options.ConsistencyWeight),
            options.EffectiveGuidanceStepSize, refiner, options.RefinementStepsPerSamplingStep),
        _ => null,
    };

    /// <summary>
    /// Back-projects an image estimate onto the observation through the pixel INN's forward model (smooth bicubic
    /// corrections, kept in [0,1], stopped at the input's noise level: <see cref="InnBackProjection"/>). Replaces the
    /// exact projection g⁻¹(y, d(x)), which turns any misfit of the INN into a grid pattern. The INN passes run in
    /// pixel windows (<see cref="PixelTiling"/>), so memory is bounded by the tile size.
    /// </summary>
    private Tensor BackProjectImage(LiftingInn inn, Tensor observation, Tensor estimate)
    {
        // The known degradation's own randomness stops the back-projection before it fits its noise (InnBackProjection).
        noiseSigma ??= NoiseLevel(estimate);
        var result = InnBackProjection.Apply(inn, observation, estimate, PixelTiling, null, noiseSigma.Value, clampToUnitRange: true,
            out int corrections, cancellationToken: cancellationToken);
        pipeline.Logger.LogDebug("Back-projection: {Corrections} corrections (noise level {Sigma:F2}/255).", corrections, noiseSigma * 255);
        return result;
    }

    /// <summary>
    /// The known degradation's noise level on this image (<see cref="DegradationSpread"/>); 0 without one (a finish the
    /// caller forced on with an unknown degradation: full consistency, as asked). When the degradation cannot run on an
    /// image this small, no level can be measured, and infinity leaves the estimate as it is (the safe side).
    /// </summary>
    private double NoiseLevel(Tensor image)
    {
        if (options.KnownDegradation is not { } known)
        {
            return 0;
        }
        try
        {
            return DegradationSpread.Measure(known, image, options.Seed);
        }
        catch (Degradations.DegradationException ex)
        {
            pipeline.Logger.LogWarning("No back-projection: the noise level of '{Spec}' could not be measured on this image ({Reason}).", known.Spec, ex.Message);
            return double.PositiveInfinity;
        }
    }

    /// <summary>The INN passes over the whole image run in windows of the diffusion tile's pixel size.</summary>
    private InnTiling PixelTiling => pixelTiling ??= new InnTiling(options.Tile * 8);

    /// <summary>Stops the run where NaN or ∞ first appear, naming the stage (one reduction; the data stays on its device).</summary>
    private static void CheckFinite(Tensor t, string stage)
    {
        using var scope = torch.NewDisposeScope();
        var finite = t.isfinite();
        if (!finite.all().item<bool>())
        {
            throw new NonFiniteValuesException(stage, finite.logical_not().sum().item<long>(), t.numel());
        }
    }

    /// <summary>
    /// Runs a stage whose components check their own intermediates: the VAE refuses NaN input with an
    /// <see cref="ArgumentException"/>, which inside guidance means the INN produced it; report it as this stage's.
    /// </summary>
    private static Tensor NonFiniteInside(string stage, Func<Tensor> run)
    {
        try
        {
            return run();
        }
        catch (ArgumentException ex) when (ex.Message.Contains("NaN or infinite", StringComparison.Ordinal))
        {
            throw new NonFiniteValuesException(stage, ex);
        }
    }

    private static double Psnr(Tensor a, Tensor b, double peak = 1.0)
    {
        double mse = (a - b).pow(2).mean().to(ScalarType.Float64).item<double>();
        return mse <= 0 ? double.PositiveInfinity : 10 * Math.Log10(peak * peak / mse);
    }

    private void Enter(RestoreStage next)
    {
        if (stageClock.IsRunning)
        {
            stageTimes[stage] = stageTimes.GetValueOrDefault(stage) + stageClock.Elapsed;
            pipeline.Logger.LogDebug("Stage {Stage} took {Seconds:F3} s.", stage, stageClock.Elapsed.TotalSeconds);
        }
        stage = next;
        stageClock.Restart();
        if (next != RestoreStage.Sampling)
        {
            Report(next, 0, 0, 0, 1, TimeSpan.Zero);
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    private void Report(RestoreStage at, int step, int steps, int tile, int tiles, TimeSpan samplingTime)
    {
        if (progress is null)
        {
            return;
        }
        int iterations = (step - 1) * tiles + tile + 1;
        double rate = at == RestoreStage.Sampling && samplingTime > TimeSpan.Zero ? iterations / samplingTime.TotalSeconds : 0;
        progress.Report(new RestoreProgress(at, step, steps, tile, tiles, total.Elapsed, rate));
    }
}
