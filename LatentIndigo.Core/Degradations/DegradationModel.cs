using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Base class of the built-in degradations: checks the batch (shape, dtype, size divisible by the scale factor, finite
/// values), manages temporaries, and lets the operator record the parameters it used in a <see cref="DegradationTrace"/>.
/// Users may derive from it or implement <see cref="IDegradationModel"/> directly.
/// </summary>
public abstract class DegradationModel : IDegradationModel
{
    /// <inheritdoc />
    public abstract int ScaleFactor { get; }

    /// <inheritdoc />
    public abstract string Spec { get; }

    /// <summary>
    /// Smallest height and width this degradation accepts (for example a blur with reflect padding needs more pixels
    /// than half its kernel). Defaults to the scale factor.
    /// </summary>
    public virtual int MinimumSide => ScaleFactor;

    /// <inheritdoc />
    public Tensor Apply(Tensor batch, Generator? generator = null) => Apply(batch, generator, null);

    /// <summary>
    /// Degrades a batch <c>[N,C,H,W]</c> float32 in [0,1] like <see cref="Apply(Tensor, Generator?)"/> and records, per
    /// image, the parameters used in <paramref name="trace"/> (which must describe N images), when one is given.
    /// </summary>
    public Tensor Apply(Tensor batch, Generator? generator, DegradationTrace? trace)
    {
        BatchChecks.Validate(batch, ScaleFactor, MinimumSide, Spec);
        if (trace is not null && trace.ImageCount != batch.shape[0])
        {
            throw new DegradationException(
                $"The trace describes {trace.ImageCount} images but the batch has {batch.shape[0]}: create it with new DegradationTrace({batch.shape[0]}).");
        }
        using var scope = torch.NewDisposeScope();
        var result = ApplyCore(batch, generator, trace);
        if (ReferenceEquals(result, batch))
        {
            // Callers own the returned tensor and may dispose it: never hand back their input.
            result = batch.clone();
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The operator itself. <paramref name="batch"/> is already validated; temporaries are disposed by the caller's
    /// scope, so the implementation need not dispose them. Record parameters in <paramref name="trace"/> when not null.
    /// </summary>
    protected abstract Tensor ApplyCore(Tensor batch, Generator? generator, DegradationTrace? trace);

    /// <summary>The spec string.</summary>
    public override string ToString() => Spec;
}
