using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>The restored image and what it took. Dispose it to free the image tensor.</summary>
public sealed class RestoreResult : IDisposable
{
    internal RestoreResult(Tensor image) => Image = image;

    /// <summary>The restored image <c>[1,3,H·s,W·s]</c>, float32 in [0,1].</summary>
    public Tensor Image { get; }

    /// <summary>
    /// The final (guided, measurement-consistent where enabled) latent that was decoded, scaled like the sampler's
    /// latents; null for <see cref="GuidanceStrategy.InnOnly"/>. Covers the padded image. Disposed with the result.
    /// </summary>
    public Tensor? FinalLatent { get; init; }

    /// <summary>The strategy that ran.</summary>
    public GuidanceStrategy Strategy { get; init; }

    /// <summary>
    /// The name of the guidance that ran (<see cref="Guidance.ILatentGuidanceFactory.Name"/> of the factory given as
    /// <see cref="RestoreOptions.Guidance"/> or the strategy's), "none" without guidance.
    /// </summary>
    public string GuidanceName { get; init; } = "none";

    /// <summary>True when a diffusion model ran (false for <see cref="GuidanceStrategy.InnOnly"/>).</summary>
    public bool UsedGenerativePrior { get; init; }

    /// <summary>True when the diffusion models were generated stand-ins with random weights, not a real export.</summary>
    public bool UsedStandInModels { get; init; }

    /// <summary>The ONNX Runtime execution provider of the diffusion models ("none" without them).</summary>
    public string ExecutionProvider { get; init; } = "none";

    /// <summary>Sampling steps that ran (per tile).</summary>
    public int StepsRun { get; init; }

    /// <summary>Latent tiles per step (1 when the latent fits one tile).</summary>
    public int Tiles { get; init; }

    /// <summary>Wall time of each stage.</summary>
    public IReadOnlyDictionary<RestoreStage, TimeSpan> StageTimes { get; internal set; } = new Dictionary<RestoreStage, TimeSpan>();

    /// <summary>Total wall time.</summary>
    public TimeSpan Total { get; internal set; }

    /// <summary>Time inside this restore's UNet runs.</summary>
    public TimeSpan UnetTime { get; init; }

    /// <summary>Time inside VAE runs (initial encode, guidance round trips, manifold regularisation, final decode).</summary>
    public TimeSpan VaeTime { get; init; }

    /// <summary>Time inside the INN (guidance gradients, refinement, finish).</summary>
    public TimeSpan InnTime { get; init; }

    /// <summary>
    /// PSNR (dB, peak 1) between the pixel INN's coarse band of the output and the input, computed with the INN as it
    /// produced the result (its refined weights in blind pixel guidance): how well the output re-degrades to what was
    /// observed <em>under the INN's own model of the degradation</em>. A consistency figure, not a quality figure: it is
    /// high by design after the measurement-consistent finish, and a misfit INN can score high on a poor image. Quality
    /// against ground truth: <c>latent-indigo eval</c> (algorithm.md §4.5). Null when quality metrics are off.
    /// </summary>
    public double? CoarsePsnr { get; init; }

    /// <summary>For latent guidance: PSNR between the latent INN's coarse band of the final latent and E(y).</summary>
    public double? LatentCoarsePsnr { get; init; }

    /// <summary>With <see cref="RestoreOptions.KnownDegradation"/>: PSNR between the degraded output and the input.</summary>
    public double? MeasurementPsnr { get; init; }

    /// <inheritdoc />
    public void Dispose()
    {
        Image.Dispose();
        FinalLatent?.Dispose();
    }
}
