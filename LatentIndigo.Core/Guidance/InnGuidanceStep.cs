using LatentIndigo.Invertible;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Guidance;

/// <summary>
/// One INN data-consistency step, the core of INDIGO guidance, usable in pixel or latent space:
/// <code>
/// (c, d) = g(x, γ)                 coarse band and details of the estimate
/// x_inv  = g⁻¹(y, d, γ)            the estimate's details on the observation's coarse band
/// L(x)   = w0·‖y − c‖ + w1·‖x_inv − x‖²
/// x'     = x − s·∇ₓL               gradient through the INN only (TorchSharp autograd)
/// </code>
/// ‖·‖ is the plain L2 norm of each image (not squared, not averaged), as in INDIGO+: its gradient has unit norm,
/// so w0 acts as a normalised step. A batch is a set of independent images (the pipeline's tiles): L is the sum of the
/// per-image losses, so each image gets exactly the step it would get alone. The INN's parameters get no gradient.
/// For a <see cref="LiftingInn"/> whose <see cref="LiftingInn.Engine"/> selects ONNX Runtime (the default for float32),
/// the loss and ∂L/∂x come from one generated ONNX graph with the gradient written out analytically (docs/onnx-inn.md);
/// otherwise from TorchSharp autograd. Both give the same step to float32 rounding.
/// </summary>
internal sealed class InnGuidanceStep
{
    // Keeps the gradient of ‖y − c‖ finite where the estimate is already exactly consistent (norm 0).
    private const double NormEpsilon = 1e-12;

    private readonly IInvertibleTransform inn;

    /// <summary>Creates the step for an INN and the two loss weights.</summary>
    public InnGuidanceStep(IInvertibleTransform inn, double coarseWeight, double consistencyWeight)
    {
        this.inn = inn ?? throw new ArgumentNullException(nameof(inn));
        if (coarseWeight < 0 || consistencyWeight < 0 || !double.IsFinite(coarseWeight) || !double.IsFinite(consistencyWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(coarseWeight), "Guidance weights must be finite and ≥ 0.");
        }
        CoarseWeight = coarseWeight;
        ConsistencyWeight = consistencyWeight;
    }

    /// <summary>w0, the weight of ‖y − c‖.</summary>
    public double CoarseWeight { get; }

    /// <summary>w1, the weight of ‖x_inv − x‖².</summary>
    public double ConsistencyWeight { get; }

    /// <summary>
    /// Takes one gradient step of size <paramref name="stepSize"/> on <paramref name="estimate"/> <c>[B,C,H,W]</c>
    /// towards consistency with <paramref name="observation"/> <c>[B,C,H/2^J,W/2^J]</c>.
    /// </summary>
    /// <returns>The guided estimate (detached) and the loss terms before the step, summed over the batch. Dispose it.</returns>
    public GuidanceStepResult Apply(Tensor estimate, Tensor observation, Tensor? condition, double stepSize) =>
        ApplyCancellable(estimate, observation, condition, stepSize, CancellationToken.None);

    /// <summary>
    /// <see cref="Apply(Tensor, Tensor, Tensor?, double)"/> for the pipeline's guidance: on ONNX Runtime, cancellation
    /// also stops a session build and terminates a run in progress.
    /// </summary>
    internal GuidanceStepResult ApplyCancellable(Tensor estimate, Tensor observation, Tensor? condition, double stepSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(observation);
        return inn is LiftingInn lifting && lifting.OnnxRuntimeEngine() is { } engine
            ? ApplyOnnxRuntime(engine, estimate, observation, condition, stepSize, cancellationToken)
            : ApplyAutograd(estimate, observation, condition, stepSize);
    }

    private GuidanceStepResult ApplyOnnxRuntime(InnOnnxRuntime engine, Tensor estimate, Tensor observation, Tensor? condition, double stepSize,
        CancellationToken cancellationToken)
    {
        var (gradient, coarseDistance, consistency) = engine.GuidanceGradient(estimate, observation, condition, CoarseWeight, ConsistencyWeight, cancellationToken);
        using var noGrad = torch.no_grad();
        // x − s·∇ₓL in one kernel; the gradient buffer belongs to the engine and is reused by its next run.
        return new GuidanceStepResult(estimate.add(gradient, -stepSize), coarseDistance, consistency);
    }

    private GuidanceStepResult ApplyAutograd(Tensor estimate, Tensor observation, Tensor? condition, double stepSize)
    {
        using var scope = torch.NewDisposeScope();
        using var gradients = torch.enable_grad();
        // Only ∂L/∂x is wanted: the INN's weights are constants here (InnConvolution's backward cannot tell otherwise).
        using var constantWeights = InnConvolution.ConstantWeights();
        var x = estimate.detach().requires_grad_(true);
        using var decomposition = inn.Forward(x, condition);
        if (!decomposition.Coarse.shape.SequenceEqual(observation.shape))
        {
            throw new ArgumentException(
                $"The observation [{string.Join(",", observation.shape)}] must have the coarse band's shape [{string.Join(",", decomposition.Coarse.shape)}].",
                nameof(observation));
        }
        var perImage = (observation - decomposition.Coarse).pow(2).sum(new long[] { 1, 2, 3 });
        var coarseDistance = perImage.add(NormEpsilon).sqrt().sum();
        var inverse = inn.Inverse(observation, decomposition.Details, condition);
        var consistency = (inverse - x).pow(2).sum();
        var loss = coarseDistance * CoarseWeight + consistency * ConsistencyWeight;
        var gradient = torch.autograd.grad(new[] { loss }, new[] { x })[0];
        var guided = x.detach() - gradient * stepSize;
        return new GuidanceStepResult(
            guided.MoveToOuterDisposeScope(),
            coarseDistance.to(ScalarType.Float64).item<double>(),
            consistency.to(ScalarType.Float64).item<double>());
    }
}
