using System.Diagnostics;
using LatentIndigo.Diffusion;
using LatentIndigo.Guidance;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;
using Psnr = LatentIndigo.Imaging.Psnr;

namespace LatentIndigo.Pipeline;

/// <summary>
/// One restoration, as a short sequence of named stages: <b>estimate</b> (pad, initial estimate), <b>encode</b> (VAE,
/// prompt, sampler, guidance), <b>sample</b> (the guided loop, <see cref="SamplingLoop"/>), <b>decode</b> and
/// <b>finish</b> (colour fix, measurement-consistent finish, crop, quality figures). INN-only restores go from the estimate
/// to <b>back-project</b> (with a known degradation; <see cref="InnBackProjection"/>) and the finish. Stage timing is <see cref="StageRecorder"/>'s; model time is counted by the
/// restore's own <see cref="ModelWorker"/>, so the stages hold no timing code.
/// </summary>
/// <remarks>
/// Everything mutable lives here, one instance per call: the model worker (bound buffers), the sampler, the guidance,
/// and in blind mode private copies of the INNs that refinement trains. The pipeline's shared parts are only read.
/// </remarks>
internal sealed class RestoreRun : IDisposable
{
    private readonly RestorationPipeline pipeline;
    private readonly Tensor input;
    private readonly RestoreOptions options;
    private readonly CancellationToken cancellationToken;
    private readonly StageRecorder recorder;
    private readonly ModelWorker? worker;
    private readonly ILatentGuidanceFactory? guidanceFactory;
    private readonly List<IDisposable> owned = [];
    private readonly InnTiling pixelTiling;
    private TimeSpan innTime;
    private double? noiseSigma;
    // γ = F(y) of the pixel INN's degradation encoder, from the whole (padded) input; null without an encoder (ones).
    private Tensor? pixelCondition;

    public RestoreRun(RestorationPipeline pipeline, Tensor input, RestoreOptions options, IProgress<RestoreProgress>? progress,
        CancellationToken cancellationToken)
    {
        this.pipeline = pipeline;
        this.input = input;
        this.options = options;
        this.cancellationToken = cancellationToken;
        recorder = new StageRecorder(progress, pipeline.Logger, cancellationToken);
        guidanceFactory = options.GuidanceFactory;
        // The INN passes over the whole image run in windows of the diffusion tile's pixel size, except INN-only's
        // back-projection (issue 24): its passes keep no autograd graph, so windows InnOnlyWindowFactor times wider fit
        // in less memory than one guided tile's pass, and fewer windows recompute less overlap (at 2048² the 16
        // windows of 640² cover the image 1.56 times, one window of 2048² once). The outputs are the same to 1e-4 dB
        // (docs/benchmarks.md). The plain method keeps the windows it had before issue 24, for side-by-side benchmarks.
        pixelTiling = new InnTiling(options.Strategy == GuidanceStrategy.InnOnly && options.BackProjectionMethod != BackProjectionMethod.Plain
            ? options.InnOnlyWindowCore : options.Tile * 8);
        worker = options.Strategy == GuidanceStrategy.InnOnly ? null : pipeline.Models!.CreateWorker();
    }

    private bool Diffusion => worker is not null;

    public RestoreResult Execute()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        try
        {
            var estimated = recorder.Run(RestoreStage.Preparing, Estimate);
            Encoded? encoded = null;
            Sampled? sampled = null;
            Tensor? decoded = null;
            if (Diffusion)
            {
                encoded = recorder.Run(RestoreStage.Encoding, () => Encode(estimated));
                sampled = recorder.Run(RestoreStage.Sampling, () => new SamplingLoop(this, encoded).Run());
                (decoded, sampled) = recorder.Run(RestoreStage.Decoding, () => Decode(encoded, sampled));
            }
            BackProjectionResult? backProjected = null;
            if (!Diffusion && options.KnownDegradation is not null)
            {
                // INN-only with a known degradation: the back-projection is the restore's work, a stage of its own.
                recorder.BackProjectionPasses = 1 + (options.BackProjectionMethod == BackProjectionMethod.Plain
                    ? InnBackProjection.DefaultMaxIterations : InnBackProjection.DefaultAcceleratedCorrections);
                backProjected = recorder.Run(RestoreStage.BackProjecting,
                    () => InnTimed(() => BackProjectImage(estimated.PixelInn, estimated.Y, estimated.Estimate, reportProgress: true)));
            }
            var result = recorder.Run(RestoreStage.Finishing, () => Finish(estimated, encoded, sampled, decoded, backProjected));
            // The result is made inside the finishing stage: its times are completed here, the finish included.
            result.StageTimes = recorder.StageTimes;
            result.Total = recorder.Total;
            recorder.Completed();
            return result;
        }
        finally
        {
            // Inside the dispose scope: refiners' snapshots are tensors of this scope. Refiners first, then the copies.
            foreach (var part in Enumerable.Reverse(owned))
            {
                part.Dispose();
            }
            owned.Clear();
        }
    }

    public void Dispose() => worker?.Dispose();

    internal RestoreOptions Options => options;

    internal CancellationToken CancellationToken => cancellationToken;

    internal StageRecorder Recorder => recorder;

    internal ModelWorker Worker => worker!;

    internal StableDiffusionModels Models => pipeline.Models!;

    internal string GuidanceName => guidanceFactory?.Name ?? "none";

    /// <summary>The tiles per model call: the option, or 8 for latent guidance on a GPU and 1 otherwise (RestoreOptions.TileBatchSize).</summary>
    public static int TileBatchSize(RestoreOptions options, Device device) =>
        options.TileBatchSize ?? (options.Strategy == GuidanceStrategy.LatentInn && device.type != DeviceType.CPU ? 8 : 1);

    /// <summary>The padded input on the device, the estimate, and the pixel INN for the restore's scale.</summary>
    private sealed record Estimated(PaddedImage Padded, Tensor Y, Tensor Estimate, IInvertibleTransform PixelInn);

    /// <summary>What sampling starts from: the encoded estimate, the observation the guidance compares against, the parts.</summary>
    internal sealed record Encoded(Tensor StartLatent, Tensor Observation, int PixelsPerLatent, TextConditioning Conditioning,
        ILatentGuidance? Guidance, InnRefiner? Refiner, IInvertibleTransform PixelInn, IInvertibleTransform? LatentInn, Tensor? ObservedLatent, VaeTiling VaeTiling,
        Tensor? LatentCondition);

    /// <summary>The outcome of sampling: ẑ0 of the last step, the steps run and the tiles per step.</summary>
    internal sealed record Sampled(Tensor FinalLatent, int Steps, int Tiles, double? LatentCoarsePsnr = null);

    // Stage "estimate": pad y (to a multiple of 8 for the VAE), make the initial estimate x₀ on the CPU, move both to the device.
    private Estimated Estimate()
    {
        var padded = ImageTensors.PadToMultiple(input, Diffusion ? 8 : 1);
        var estimator = options.InitialEstimator ?? BicubicUpscaleEstimator.Instance;
        var estimate = estimator.Estimate(padded.Image, options.ScaleFactor, cancellationToken);
        var expected = new[] { 1L, 3, padded.Image.shape[2] * options.ScaleFactor, padded.Image.shape[3] * options.ScaleFactor };
        if (!estimate.shape.SequenceEqual(expected) || estimate.dtype != ScalarType.Float32)
        {
            throw new LatentIndigoException(
                $"The initial estimator {estimator.GetType().Name} returned [{string.Join(",", estimate.shape)}] {estimate.dtype}; expected [{string.Join(",", expected)}] float32.");
        }
        RunChecks.Finite(estimate, $"initial estimate ({estimator.GetType().Name})");
        var y = padded.Image.to(pipeline.Device);
        var pixelInn = pipeline.InnForScale(latent: false, options.ScaleFactor);
        // One γ for the whole image, so every tile and window of this restore is conditioned alike.
        pixelCondition = (pixelInn as LiftingInn)?.ConditionFor(y);
        return new Estimated(padded, y, estimate.clamp(0f, 1f).to(pipeline.Device), pixelInn);
    }

    // Stage "encode": z = E(x₀), the observation the guidance needs (y or E(y)), the prompt, and the guidance itself.
    private Encoded Encode(Estimated estimated)
    {
        var vae = worker!.Vae;
        var vaeTiling = new VaeTiling(options.Tile * 8, Math.Min(64, options.Tile * 4));
        var startLatent = vae.Encode(estimated.Estimate, vaeTiling, cancellationToken: cancellationToken);
        RunChecks.Finite(startLatent, "VAE encoder output (latent of the initial estimate)");
        bool latentObservation = guidanceFactory?.Observation == GuidanceObservation.Latent || options.Strategy == GuidanceStrategy.LatentInn;
        Tensor? observedLatent = null;
        if (latentObservation)
        {
            observedLatent = vae.Encode(estimated.Y, vaeTiling, cancellationToken: cancellationToken);
            RunChecks.Finite(observedLatent, "VAE encoder output (latent of the input)");
        }
        var conditioning = pipeline.Models!.EncodePrompt(options.Prompt, options.NegativePrompt, options.ClassifierFreeGuidanceScale, cancellationToken);

        var pixelInn = estimated.PixelInn;
        var latentInn = pipeline.HasLatentInn ? pipeline.InnForScale(latent: true, options.ScaleFactor) : null;
        InnRefiner? pixelRefiner = null, latentRefiner = null;
        if (options.EffectiveBlind && guidanceFactory is not null)
        {
            // Refinement trains a LiftingInn's weights; another IInvertibleTransform has none the library can train. Asked
            // for explicitly, that is an error; by default (unknown degradation) such a transform just runs unrefined.
            var guided = guidanceFactory.Observation == GuidanceObservation.Latent ? latentInn : pixelInn;
            if (options.Blind == true && guided is not null and not LiftingInn)
            {
                throw new LatentIndigoException(
                    $"Blind refinement trains the INN's weights, which needs a LiftingInn; the guided transform is a {guided.GetType().Name}. Restore with Blind = false.");
            }
            // Blind refinement trains the forward model: on private copies, never on the pipeline's shared INNs.
            (pixelInn, pixelRefiner) = RefinedCopy(pixelInn);
            if (latentInn is not null)
            {
                (latentInn, latentRefiner) = RefinedCopy(latentInn);
            }
        }
        // The latent INN's γ, once per restore: from E(y), or from y itself when its encoder looks at images.
        Tensor? latentCondition = null;
        if (observedLatent is not null && latentInn is LiftingInn latentLifting && latentLifting.Encoder is not null)
        {
            latentCondition = Own(latentLifting.ConditionFor(latentLifting.EncoderSeesImages ? estimated.Y : observedLatent)!);
        }
        ILatentGuidance? guidance = null;
        if (guidanceFactory is not null)
        {
            var settings = new GuidanceSettings(options.EffectiveGuidanceStepSize, options.CoarseWeight, options.ConsistencyWeight,
                options.RefinementStepsPerSamplingStep);
            guidance = guidanceFactory.Create(new GuidanceContext(vae, pixelInn, latentInn, settings, pipeline.Device, pixelRefiner, latentRefiner)
            {
                PixelCondition = pixelCondition,
                LatentCondition = latentCondition,
            });
            if (guidance is IDisposable disposable)
            {
                Own(disposable);
            }
        }
        var observation = latentObservation ? observedLatent! : estimated.Y;
        // A latent pixel covers 8 image pixels: 8/s low-quality pixels, or 1/s latent pixels of E(y).
        int pixelsPerLatent = latentObservation ? 1 : 8;
        var refiner = guidanceFactory?.Observation == GuidanceObservation.Latent ? latentRefiner : pixelRefiner;
        return new Encoded(startLatent, observation, pixelsPerLatent, conditioning, guidance, refiner, pixelInn, latentInn, observedLatent, vaeTiling,
            latentCondition);
    }

    // A private copy of a LiftingInn with a refiner started for this image; any other transform stays as it is, unrefined.
    private (IInvertibleTransform Inn, InnRefiner? Refiner) RefinedCopy(IInvertibleTransform inn)
    {
        if (inn is not LiftingInn lifting)
        {
            return (inn, null);
        }
        var copy = Own(lifting.Copy());
        var refiner = Own(new InnRefiner(copy, options.RefinementLearningRate));
        Own(refiner.BeginImage());
        return (copy, refiner);
    }

    // Stage "decode": the latent measurement-consistent finish (latent strategy), then x = D(ẑ0).
    private (Tensor Decoded, Sampled Sampled) Decode(Encoded encoded, Sampled sampled)
    {
        var finalLatent = sampled.FinalLatent;
        double? latentCoarsePsnr = null;
        if (options.Strategy == GuidanceStrategy.LatentInn && encoded.LatentInn is { } latentInn)
        {
            var observed = encoded.ObservedLatent!;
            var latentCondition = encoded.LatentCondition; // owned by the run
            (finalLatent, latentCoarsePsnr) = InnTimed(() =>
            {
                var finished = finalLatent;
                if (options.EffectiveMeasurementConsistentFinish)
                {
                    // Back-projection onto E(y) through the latent INN (algorithm.md §5); latents have no noise level to
                    // stop at, so it runs its fixed number of corrections. One window unless the latent exceeds 512 pixels.
                    finished = InnBackProjection.Apply(latentInn, observed, finalLatent, InnTiling.Default, latentCondition,
                        noiseSigma: 0, clampToUnitRange: false, out int corrections, cancellationToken: cancellationToken);
                    pipeline.Logger.LogDebug("Latent back-projection: {Corrections} corrections.", corrections);
                    RunChecks.Finite(finished, "latent INN measurement-consistent finish");
                }
                using var decomposition = latentInn.Forward(finished, latentCondition);
                return (finished, (double?)Psnr.Of(decomposition.Coarse, observed, peak: 2.0));
            });
        }
        var decoded = worker!.Vae.Decode(finalLatent, encoded.VaeTiling, cancellationToken: cancellationToken);
        RunChecks.Finite(decoded, "VAE decoder output");
        return (decoded.clamp(0f, 1f), sampled with { FinalLatent = finalLatent, LatentCoarsePsnr = latentCoarsePsnr });
    }

    // Stage "finish": colour fix and measurement-consistent finish (or the INN-only restore), crop, quality figures.
    private RestoreResult Finish(Estimated estimated, Encoded? encoded, Sampled? sampled, Tensor? decoded, BackProjectionResult? backProjected)
    {
        var y = estimated.Y;
        Tensor output;
        if (decoded is null)
        {
            // INN-only. Unknown degradation: no forward model to trust, so the bicubic estimate is the answer (a misfit
            // INN made the output worse than bicubic, algorithm.md §5); a known one was back-projected through the INN
            // (stage BackProjecting).
            output = backProjected?.Image ?? estimated.Estimate;
            RunChecks.Finite(output, "INN back-projection (INN-only restoration)");
        }
        else
        {
            output = decoded;
            if (options.ColorFix)
            {
                output = WaveletColorFix.Apply(output, estimated.Estimate);
                RunChecks.Finite(output, "colour fix");
            }
            if (options.EffectiveMeasurementConsistentFinish && options.Strategy == GuidanceStrategy.PixelInn)
            {
                var inn = encoded!.PixelInn;
                output = InnTimed(() => BackProjectImage(inn, y, output.clamp(0f, 1f), reportProgress: false)).Image;
                RunChecks.Finite(output, "pixel INN measurement-consistent finish");
            }
        }
        output = ImageTensors.Crop(estimated.Padded, output.clamp(0f, 1f), options.ScaleFactor);

        // Quality figures on the final, cropped output (cheap: one INN forward, one degradation). The coarse PSNR uses the
        // pixel INN that produced the result: the refined private copy in blind mode (its weights are restored after this).
        double? coarsePsnr = null;
        if (options.ComputeQualityMetrics)
        {
            var producingInn = encoded?.PixelInn ?? estimated.PixelInn;
            coarsePsnr = backProjected is not null && estimated.Padded.Image.shape.SequenceEqual(input.shape)
                    && options.BackProjectionMethod != BackProjectionMethod.Plain // the code before issue 24 ran a pass here
                // The back-projection's last INN pass was over this very image (clamped, nothing cropped): no new pass.
                ? Psnr.Of(backProjected.Coarse, estimated.Y)
                : InnTimed(() =>
            {
                // γ from the padded input fits the cropped output too: the encoder averages over the whole image.
                using var coarse = pixelTiling.Coarse(producingInn, output, pixelCondition, cancellationToken: cancellationToken);
                return Psnr.Of(coarse, input);
            });
        }
        output = output.cpu();
        double? measurementPsnr = null;
        if (options.ComputeQualityMetrics && options.KnownDegradation is { } degradation)
        {
            var degraded = degradation.Apply(output, new Generator((ulong)options.Seed));
            measurementPsnr = degraded.shape.SequenceEqual(input.shape) ? Psnr.Of(degraded, input) : null;
        }
        var models = pipeline.Models;
        var result = new RestoreResult(output.MoveToOuterDisposeScope())
        {
            Strategy = options.Strategy,
            GuidanceName = Diffusion ? guidanceFactory?.Name ?? "none" : "none (INN only)",
            UsedGenerativePrior = Diffusion,
            UsedStandInModels = Diffusion && models!.IsStandIn,
            ExecutionProvider = Diffusion ? models!.ExecutionProvider.ToString() : "none (INN only)",
            FinalLatent = sampled?.FinalLatent.cpu().MoveToOuterDisposeScope(),
            StepsRun = sampled?.Steps ?? 0,
            Tiles = sampled?.Tiles ?? 0,
            UnetTime = worker?.UnetTime ?? TimeSpan.Zero,
            VaeTime = worker?.VaeTime ?? TimeSpan.Zero,
            InnTime = innTime,
            CoarsePsnr = coarsePsnr,
            LatentCoarsePsnr = sampled?.LatentCoarsePsnr,
            MeasurementPsnr = measurementPsnr,
        };
        pipeline.Logger.LogInformation(
            "Restored {W}×{H} → {OW}×{OH} with {Strategy} in {Total:F2} s (UNet {Unet:F2} s, VAE {Vae:F2} s, INN {Inn:F2} s); coarse PSNR {Psnr} dB.",
            input.shape[3], input.shape[2], output.shape[3], output.shape[2], options.Strategy, result.Total.TotalSeconds,
            result.UnetTime.TotalSeconds, result.VaeTime.TotalSeconds, innTime.TotalSeconds,
            coarsePsnr?.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) ?? "-");
        return result;
    }

    /// <summary>
    /// Runs INN work (guidance, finishes, quality figures) and books its time as INN time; VAE calls made inside (pixel
    /// guidance decodes and encodes) are the worker's VAE time and are taken out again.
    /// </summary>
    internal T InnTimed<T>(Func<T> work)
    {
        var vaeBefore = worker?.VaeTime ?? TimeSpan.Zero;
        long started = Stopwatch.GetTimestamp();
        try
        {
            return work();
        }
        finally
        {
            innTime += Stopwatch.GetElapsedTime(started) - ((worker?.VaeTime ?? TimeSpan.Zero) - vaeBefore);
        }
    }

    /// <summary>
    /// Back-projects an image estimate onto the observation through the pixel INN's forward model (smooth bicubic
    /// corrections, kept in [0,1], stopped at the known degradation's noise level: <see cref="InnBackProjection"/>).
    /// Replaces the exact projection g⁻¹(y, d(x)), which turns any misfit of the INN into a grid pattern. The INN passes
    /// run in pixel windows, so memory is bounded by the tile size.
    /// </summary>
    private BackProjectionResult BackProjectImage(IInvertibleTransform inn, Tensor observation, Tensor estimate, bool reportProgress)
    {
        noiseSigma ??= NoiseLevel(estimate);
        var result = InnBackProjection.Run(inn, observation, estimate, pixelTiling, pixelCondition, noiseSigma.Value, clampToUnitRange: true,
            options.BackProjectionMethod,
            progress: reportProgress ? p => recorder.BackProjectionProgress(p.Pass, p.Passes, p.Window, p.Windows) : null,
            cancellationToken: cancellationToken);
        pipeline.Logger.LogDebug("Back-projection ({Method}): {Corrections} corrections in {Passes} INN passes (noise level {Sigma:F2}/255).",
            options.BackProjectionMethod, result.Corrections, result.Passes, noiseSigma * 255);
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

    private T Own<T>(T part)
        where T : IDisposable
    {
        owned.Add(part);
        return part;
    }
}
