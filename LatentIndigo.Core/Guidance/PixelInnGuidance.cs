using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Guidance;

/// <summary>
/// LatentINDIGO-PixelINN (algorithm.md §9.2): decode ẑ0 to x̂ = D(ẑ0), take the INN gradient step in pixel space
/// against the low-quality image y, clamp to [0,1] and encode back: ẑ0' = E(x̂'). The pixel↔latent round trip at every
/// guided step is the cost that latent guidance removes.
/// </summary>
public sealed class PixelInnGuidance : ILatentGuidance
{
    private readonly Vae vae;
    private readonly InnGuidanceStep step;
    private readonly InnRefiner? refiner;
    private readonly Tensor? condition;
    private readonly double stepSize;
    private readonly int refinementSteps;

    /// <summary>Creates the guidance.</summary>
    /// <param name="vae">The export's VAE (decode and encode of each tile).</param>
    /// <param name="step">The INN data-consistency step over the pixel INN.</param>
    /// <param name="stepSize">Guidance step size s.</param>
    /// <param name="refiner">Refiner of the same pixel INN for blind mode, or null.</param>
    /// <param name="refinementSteps">Adam steps per call when refining.</param>
    /// <param name="condition">The INN condition γ, or null for ones.</param>
    internal PixelInnGuidance(Vae vae, InnGuidanceStep step, double stepSize, InnRefiner? refiner = null, int refinementSteps = 1, Tensor? condition = null)
    {
        this.vae = vae ?? throw new ArgumentNullException(nameof(vae));
        this.step = step ?? throw new ArgumentNullException(nameof(step));
        this.stepSize = stepSize;
        this.refiner = refiner;
        this.refinementSteps = refinementSteps;
        this.condition = condition;
    }

    /// <summary>Makes a <see cref="PixelInnGuidance"/> per restore from the context's VAE and pixel INN (and its refiner in blind mode).</summary>
    public static ILatentGuidanceFactory Factory { get; } = new PixelInnFactory();

    /// <inheritdoc />
    public Tensor Guide(Tensor predictedOriginal, Tensor observation, bool refine, CancellationToken cancellationToken)
    {
        using var scope = torch.NewDisposeScope();
        var estimate = vae.Decode(predictedOriginal, cancellationToken: cancellationToken);
        using var result = step.ApplyCancellable(estimate, observation, condition, stepSize, cancellationToken);
        if (refine && refiner is not null)
        {
            for (int i = 0; i < refinementSteps; i++)
            {
                refiner.Step(observation, estimate, condition);
            }
        }
        var guided = vae.Encode(result.Guided.clamp(0f, 1f), cancellationToken: cancellationToken);
        return guided.MoveToOuterDisposeScope();
    }

    private sealed class PixelInnFactory : ILatentGuidanceFactory
    {
        public string Name => "PixelInn";

        public GuidanceObservation Observation => GuidanceObservation.Image;

        public ILatentGuidance Create(GuidanceContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var s = context.Settings;
            return new PixelInnGuidance(context.Vae, new InnGuidanceStep(context.PixelInn, s.CoarseWeight, s.ConsistencyWeight), s.StepSize,
                context.PixelRefiner, s.RefinementStepsPerCall, context.PixelCondition);
        }
    }
}
