using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// INN-only restoration by the exact inverse, with no generative prior: the estimate's details put on the observation's
/// coarse band, <c>Inverse(y, Details(Forward(estimate)))</c>, whose simulated degradation (the coarse band of its
/// Forward) equals y, alternated with clamping to [0,1]. A baseline: where the INN does not fit y's degradation the
/// mismatch comes back as a polyphase grid pattern, so <c>RestorationPipeline</c>'s INN-only strategy and its
/// measurement-consistent finish back-project instead since issue 12 (algorithm.md §5).
/// </summary>
internal static class InnRestorer
{
    /// <summary>
    /// Restores <paramref name="y"/> <c>[B,C,h,w]</c> in [0,1] to <c>[B,C,h·2^J,w·2^J]</c> in [0,1], starting from the bicubic
    /// upscale estimate (<see cref="Degradations.MatlabBicubic.UpscaleEstimate"/>); see <see cref="ProjectInRange"/>.
    /// </summary>
    /// <param name="inn">A trained INN (its coarse band imitates the degradation that produced y).</param>
    /// <param name="y">Degraded image, float32 in [0,1], on the INN's device.</param>
    /// <param name="tiling">Windows for large images (null: <see cref="InnTiling.Default"/>; small images run whole).</param>
    /// <param name="cancellationToken">Checked between windows.</param>
    /// <exception cref="InnInputException">y has the wrong shape, or contains NaN or infinity.</exception>
    public static Tensor Restore(LiftingInn inn, Tensor y, InnTiling? tiling = null, CancellationToken cancellationToken = default)
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
        var estimate = Degradations.MatlabBicubic.UpscaleEstimate(y, inn.ScaleFactor);
        return ProjectInRange(inn, y, estimate, tiling, cancellationToken: cancellationToken).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The measurement-consistent image closest in spirit to <paramref name="estimate"/> that stays in [0,1]: alternate
    /// the projection onto the consistent set, g⁻¹(y, details of g(x)), with clamping (projections onto convex sets),
    /// up to <paramref name="rounds"/> rounds, stopping once the projection is within 1/1000 of [0,1]. One round is exact
    /// consistency; clamping afterwards would undo part of it wherever the estimate was far from consistent. The
    /// projection runs in windows (<paramref name="tiling"/>), so memory is bounded by the window. Returns a new tensor.
    /// </summary>
    public static Tensor ProjectInRange(LiftingInn inn, Tensor observation, Tensor estimate, InnTiling? tiling = null, int rounds = 4,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inn);
        ArgumentNullException.ThrowIfNull(observation);
        ArgumentNullException.ThrowIfNull(estimate);
        tiling ??= InnTiling.Default;
        var x = estimate;
        for (int round = 0; round < rounds; round++)
        {
            var projected = tiling.Project(inn, observation, x, cancellationToken: cancellationToken);
            if (!ReferenceEquals(x, estimate))
            {
                x.Dispose();
            }
            x = projected;
            float outside = Math.Max(-x.min().item<float>(), x.max().item<float>() - 1f);
            x = x.clamp_(0f, 1f);
            if (outside < 1e-3f)
            {
                break;
            }
        }
        return ReferenceEquals(x, estimate) ? x.clone() : x;
    }
}
