using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// Test-time refinement of an INN for an unknown degradation (algorithm.md §4.5, INDIGO+ real-world setting): while
/// restoring one image, Adam steps on MSE(y, coarse(x̂)) with the estimate x̂ detached, so the forward model drifts
/// towards the observed degradation. The weights are snapshotted by <see cref="BeginImage"/> and restored by
/// <see cref="EndImage"/> (or by disposing the scope <see cref="BeginImage"/> returns), so every image starts from the
/// same trained network.
/// </summary>
/// <example>
/// <code>
/// using var refiner = new InnRefiner(inn);           // lr 5e-5
/// using (refiner.BeginImage())
/// {
///     for (...) { /* guidance with inn */ refiner.Step(y, xHat, condition); }
/// }                                                  // weights restored here
/// </code>
/// </example>
public sealed class InnRefiner : IDisposable
{
    /// <summary>INDIGO+'s refinement learning rate.</summary>
    public const double DefaultLearningRate = 5e-5;

    private readonly LiftingInn inn;
    private Dictionary<string, Tensor>? snapshot;
    private Adam? adam;

    /// <summary>Creates a refiner for <paramref name="inn"/>; nothing changes until <see cref="BeginImage"/>.</summary>
    /// <param name="inn">The network to refine (its weights are restored after each image).</param>
    /// <param name="learningRate">Adam learning rate (INDIGO+: 5e-5).</param>
    /// <param name="beta1">Adam β1 (PyTorch default 0.9).</param>
    /// <param name="beta2">Adam β2 (PyTorch default 0.999).</param>
    public InnRefiner(LiftingInn inn, double learningRate = DefaultLearningRate, double beta1 = 0.9, double beta2 = 0.999)
    {
        ArgumentNullException.ThrowIfNull(inn);
        if (!(learningRate > 0) || learningRate > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be in (0, 1]; INDIGO+ uses 5e-5.");
        }
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), $"Adam betas must be in [0,1); got ({beta1}, {beta2}).");
        }
        this.inn = inn;
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
    }

    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; }

    /// <summary>Adam β1.</summary>
    public double Beta1 { get; }

    /// <summary>Adam β2.</summary>
    public double Beta2 { get; }

    /// <summary>True between <see cref="BeginImage"/> and <see cref="EndImage"/>.</summary>
    internal bool InImage => snapshot is not null;

    /// <summary>Steps taken for the current image.</summary>
    public int StepsThisImage { get; private set; }

    /// <summary>
    /// Snapshots the weights and creates a fresh Adam (moments at zero) for a new image. Dispose the returned scope, or
    /// call <see cref="EndImage"/>, to restore the weights.
    /// </summary>
    /// <exception cref="InvalidOperationException">An image is already in progress.</exception>
    public IDisposable BeginImage()
    {
        if (snapshot is not null)
        {
            throw new InvalidOperationException("BeginImage was called twice: call EndImage (or dispose the scope) for the previous image first.");
        }
        var copy = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in inn.named_parameters())
        {
            copy[name] = p.detach().clone();
        }
        snapshot = copy;
        adam = optim.Adam(inn.parameters(), LearningRate, Beta1, Beta2);
        StepsThisImage = 0;
        return new ImageScope(this);
    }

    /// <summary>
    /// One Adam step on MSE(y, coarse(x̂)) over all INN parameters; x̂ is detached, so no gradient reaches the estimate.
    /// Returns the loss before the step.
    /// </summary>
    /// <param name="y">Observed degraded image (or latent) <c>[B,C,h,w]</c>.</param>
    /// <param name="estimate">Current estimate x̂ <c>[B,C,h·2^J,w·2^J]</c>.</param>
    /// <param name="condition">γ or null for ones.</param>
    /// <exception cref="InvalidOperationException">No image is in progress.</exception>
    public double Step(Tensor y, Tensor estimate, Tensor? condition = null)
    {
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(estimate);
        if (adam is null)
        {
            throw new InvalidOperationException("Call BeginImage before Step, so the weights can be restored afterwards.");
        }
        using var scope = NewDisposeScope();
        using var enableGrad = enable_grad();
        var x = estimate.detach();
        adam.zero_grad();
        using var decomposition = inn.Forward(x, condition?.detach());
        if (!decomposition.Coarse.shape.SequenceEqual(y.shape))
        {
            throw new InnInputException(
                $"y is [{string.Join(",", y.shape)}] but the coarse band of the estimate is [{string.Join(",", decomposition.Coarse.shape)}].");
        }
        var loss = nn.functional.mse_loss(decomposition.Coarse, y.detach());
        loss.backward();
        adam.step();
        StepsThisImage++;
        return loss.ToDouble();
    }

    /// <summary>Restores the weights snapshotted by <see cref="BeginImage"/> and drops the optimiser state.</summary>
    public void EndImage()
    {
        if (snapshot is null)
        {
            return;
        }
        using (no_grad())
        {
            foreach (var (name, p) in inn.named_parameters())
            {
                p.copy_(snapshot[name]);
                p.grad?.zero_();
            }
        }
        foreach (var t in snapshot.Values)
        {
            t.Dispose();
        }
        snapshot = null;
        adam?.Dispose();
        adam = null;
    }

    /// <summary>Restores the weights if an image is still in progress.</summary>
    public void Dispose() => EndImage();

    private sealed class ImageScope(InnRefiner owner) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (!disposed)
            {
                disposed = true;
                owner.EndImage();
            }
        }
    }
}
