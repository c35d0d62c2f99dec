namespace LatentIndigo.Invertible;

/// <summary>How the INN's 3×3 convolutions are differentiated when they run in float32 on the CPU.</summary>
/// <remarks>
/// libtorch's own CPU convolution backward goes through oneDNN, which returns NaN or wrong gradients on some x86-64
/// CPUs (seen on AVX-512 AMD EPYC machines, at random from run to run) while its forward convolutions are right there.
/// See <c>docs/cpu.md</c>.
/// </remarks>
public enum ConvolutionGradientRoute
{
    /// <summary>
    /// The default: the input gradient is computed as a forward convolution with the flipped, transposed kernel and the
    /// weight gradient as nine matrix products (one per kernel tap), so no convolution backward kernel of libtorch is
    /// used. Correct on every CPU; about as fast as libtorch's own backward where that works (docs/benchmarks.md).
    /// </summary>
    ForwardConvolutions,

    /// <summary>
    /// libtorch's own convolution backward (oneDNN on most x86-64 CPUs). Only for comparison and for machines whose
    /// gradients were checked: it is wrong on some AVX-512 AMD EPYC CPUs.
    /// </summary>
    Libtorch,
}
