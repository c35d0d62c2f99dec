using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// INN-only restoration, with no generative prior: the estimate is a bicubic upscale of y (MATLAB's imresize, the same
/// estimate as the pipeline's default), and the result is
/// Inverse(y, Details(Forward(estimate))). Its simulated degradation, the coarse band of Forward(result), equals y
/// exactly (up to float rounding), because the transform is invertible. A baseline for benchmarks: where the INN does not
/// fit y's degradation the mismatch comes back as a polyphase grid pattern, so the pipeline's INN-only strategy
/// back-projects instead (algorithm.md §5).
/// </summary>
public static class InnRestorer
{
    /// <summary>
    /// Restores <paramref name="y"/> <c>[B,C,h,w]</c> to <c>[B,C,h·2^J,w·2^J]</c>. The result is not clamped, so it stays
    /// exactly consistent with y; clamp to [0,1] for display.
    /// </summary>
    /// <param name="inn">A trained INN (its coarse band imitates the degradation that produced y).</param>
    /// <param name="y">Degraded image, float32 in [0,1], on the INN's device.</param>
    /// <param name="condition">γ or null for ones.</param>
    /// <param name="tiling">Windows for large images (null: <see cref="InnTiling.Default"/>; small images run whole).</param>
    /// <exception cref="InnInputException">y has the wrong shape, or contains NaN or infinity.</exception>
    public static Tensor Restore(LiftingInn inn, Tensor y, Tensor? condition = null, InnTiling? tiling = null)
    {
        ArgumentNullException.ThrowIfNull(inn);
        ArgumentNullException.ThrowIfNull(y);
        if (y.dim() != 4 || y.shape[1] != inn.Channels)
        {
            throw new InnInputException($"y must be [B,{inn.Channels},h,w]; got [{string.Join(",", y.shape)}].");
        }
        using (var finite = y.isfinite().all())
        {
            if (!finite.ToBoolean())
            {
                throw new InnInputException("y contains NaN or infinite values: check how the image was produced.");
            }
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var estimate = BicubicUpscale(y, inn.ScaleFactor);
        var result = (tiling ?? InnTiling.Default).Project(inn, y, estimate, condition);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The initial estimate: MATLAB bicubic upscaling (Keys a = −0.5) by an integer factor.</summary>
    private static Tensor BicubicUpscale(Tensor y, int factor)
    {
        if (factor == 1)
        {
            return y.clone();
        }
        using var scope = NewDisposeScope();
        // The resize works in float32; a float64 network gets its estimate converted back.
        var up = Degradations.MatlabBicubic.Resize(y.to(ScalarType.Float32), (double)factor).to(y.dtype);
        return up.MoveToOuterDisposeScope();
    }
}
