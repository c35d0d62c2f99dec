using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// The output of <see cref="IInvertibleTransform.Forward"/>: the coarse band and the detail bands. Details are ordered
/// coarsest level first; each level holds three bands in INDIGO+ order: odd rows/even columns, even rows/odd columns,
/// odd rows/odd columns (of the polyphase split at that level, after lifting). Disposing frees every tensor.
/// </summary>
public sealed class InnDecomposition : IDisposable
{
    /// <summary>Creates a decomposition; it takes ownership of the tensors.</summary>
    public InnDecomposition(Tensor coarse, IReadOnlyList<IReadOnlyList<Tensor>> details)
    {
        Coarse = coarse;
        Details = details;
    }

    /// <summary>The coarse band <c>[B,C,H/2^J,W/2^J]</c>: the transform's simulation of the degraded image.</summary>
    public Tensor Coarse { get; }

    /// <summary>J levels (coarsest first) of three detail bands each.</summary>
    public IReadOnlyList<IReadOnlyList<Tensor>> Details { get; }

    /// <summary>Moves every tensor out of the current dispose scope (see TorchSharp's <c>NewDisposeScope</c>).</summary>
    public InnDecomposition MoveToOuterDisposeScope()
    {
        Coarse.MoveToOuterDisposeScope();
        foreach (var level in Details)
        {
            foreach (var band in level)
            {
                band.MoveToOuterDisposeScope();
            }
        }
        return this;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Coarse.Dispose();
        foreach (var level in Details)
        {
            foreach (var band in level)
            {
                band.Dispose();
            }
        }
    }
}
