using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// An exactly invertible multi-scale transform: <see cref="Forward"/> splits an image (or latent) into a coarse band
/// and detail bands, <see cref="Inverse"/> puts them back together. Both are differentiable with TorchSharp autograd
/// with respect to their inputs and the transform's parameters. The coarse band is trained to imitate a degradation,
/// so <c>Inverse(y, Forward(x).Details)</c> is an image whose simulated degradation is exactly <c>y</c>.
/// </summary>
public interface IInvertibleTransform
{
    /// <summary>Channels of the input (3 for RGB, 4 for SD latents).</summary>
    int Channels { get; }

    /// <summary>Number of levels J: the coarse band is <see cref="ScaleFactor"/> times smaller per side.</summary>
    int Levels { get; }

    /// <summary>2^<see cref="Levels"/>.</summary>
    int ScaleFactor { get; }

    /// <summary>Length of the condition vector; a <c>null</c> condition means a vector of ones.</summary>
    int ConditionSize { get; }

    /// <summary>
    /// Decomposes <paramref name="x"/> <c>[B,C,H,W]</c> (H and W divisible by <see cref="ScaleFactor"/>) into a coarse
    /// band <c>[B,C,H/2^J,W/2^J]</c> and J levels of three detail bands, coarsest level first.
    /// </summary>
    /// <param name="x">Input batch, on the transform's device and dtype.</param>
    /// <param name="condition"><c>[B,ConditionSize]</c> or <c>[1,ConditionSize]</c>, or <c>null</c> for ones.</param>
    InnDecomposition Forward(Tensor x, Tensor? condition);

    /// <summary>
    /// Rebuilds the input from a coarse band and detail bands laid out as <see cref="Forward"/> returns them.
    /// Replacing the coarse band by a degraded image gives a reconstruction consistent with it.
    /// </summary>
    Tensor Inverse(Tensor coarse, IReadOnlyList<IReadOnlyList<Tensor>> details, Tensor? condition);
}
