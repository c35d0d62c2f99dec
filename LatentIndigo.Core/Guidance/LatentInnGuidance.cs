using LatentIndigo.Invertible;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Guidance;

/// <summary>
/// LatentINDIGO-LatentINN (algorithm.md §4.4, §9.3): the INN gradient step taken directly on ẑ0 through a latent INN,
/// against the latent of the low-quality image z_y = E(y). No VAE call: the step costs only the small INN.
/// </summary>
public sealed class LatentInnGuidance : ILatentGuidance
{
    private readonly InnGuidanceStep step;
    private readonly InnRefiner? refiner;
    private readonly Tensor? condition;
    private readonly double stepSize;
    private readonly int refinementSteps;

    /// <summary>Creates the guidance over a latent INN step.</summary>
    /// <param name="step">The INN data-consistency step over the latent INN.</param>
    /// <param name="stepSize">Guidance step size s.</param>
    /// <param name="refiner">Refiner of the same latent INN for blind mode, or null.</param>
    /// <param name="refinementSteps">Adam steps per call when refining.</param>
    /// <param name="condition">The INN condition γ, or null for ones.</param>
    internal LatentInnGuidance(InnGuidanceStep step, double stepSize, InnRefiner? refiner = null, int refinementSteps = 1, Tensor? condition = null)
    {
        this.step = step ?? throw new ArgumentNullException(nameof(step));
        this.stepSize = stepSize;
        this.refiner = refiner;
        this.refinementSteps = refinementSteps;
        this.condition = condition;
    }

    /// <summary>Makes a <see cref="LatentInnGuidance"/> per restore from the context's latent INN (and its refiner in blind mode).</summary>
    public static ILatentGuidanceFactory Factory { get; } = new LatentInnFactory();

    /// <inheritdoc />
    public Tensor Guide(Tensor predictedOriginal, Tensor observation, bool refine, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var result = step.ApplyCancellable(predictedOriginal, observation, condition, stepSize, cancellationToken);
        if (refine && refiner is not null)
        {
            for (int i = 0; i < refinementSteps; i++)
            {
                refiner.Step(observation, predictedOriginal, condition);
            }
        }
        return result.TakeGuided();
    }

    private sealed class LatentInnFactory : ILatentGuidanceFactory
    {
        public string Name => "LatentInn";

        public GuidanceObservation Observation => GuidanceObservation.Latent;

        public ILatentGuidance Create(GuidanceContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var inn = context.LatentInn ?? throw new LatentIndigoException(
                "Latent guidance needs a latent INN trained for this export's VAE. Train one with 'latent-indigo train-inn --latent --vae <export>' and pass RestorationPipelineOptions.LatentInnPath.");
            var s = context.Settings;
            return new LatentInnGuidance(new InnGuidanceStep(inn, s.CoarseWeight, s.ConsistencyWeight), s.StepSize, context.LatentRefiner,
                s.RefinementStepsPerCall, context.LatentCondition);
        }
    }
}
