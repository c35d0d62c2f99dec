using LatentIndigo.Degradations;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>
/// Makes an estimate consistent with the observation through the INN's forward model without the INN's inverse:
/// iterative back-projection (Irani and Peleg, 1991) x ← x + λ·U(y − coarse(g(x))), with U the MATLAB bicubic upscale,
/// stopped by Morozov's discrepancy principle once the residual is down to the observation's noise level. λ starts at 1
/// and is halved whenever a step would not lower the residual, so the result is never less consistent than the estimate.
/// </summary>
/// <remarks>
/// <para>Why not the exact projection g⁻¹(y, d(x)): the lifting INN puts its coarse band on one polyphase component
/// of the 2^J grid, so a mismatch between y and the coarse band of x (an INN that does not fit this image's
/// degradation, noise, JPEG blocks) comes back as a dot/diagonal-grid pattern, and measured PSNR-Y fell below plain
/// bicubic (docs/algorithm.md §5). Every correction here is a bicubic interpolation of a low-resolution residual, so it
/// is smooth by construction: no grid can appear, whatever the INN.</para>
/// <para>Why the discrepancy stop: with noise of standard deviation σ in y, even the true image leaves a residual of
/// RMS σ; driving it lower fits the noise (amplified by the inverse problem). The caller supplies σ (the pipeline
/// measures the spread of a known random degradation); a noisy input therefore gets few or no corrections and stays
/// close to its estimate. No-reference estimates from y were tried and rejected: the median of fine Haar coefficients
/// and the smallest eigenvalue of the 5×5 patch covariance both read the texture of clean ×4 downscales of Kodak
/// images as 2–6/255 of noise, which stopped the back-projection before its first correction.</para>
/// </remarks>
internal static class InnBackProjection
{
    /// <summary>At most this many corrections (each one INN forward pass over the image).</summary>
    public const int DefaultMaxIterations = 8;

    /// <summary>Backtracking gives up below this step size (three halvings of the full step).</summary>
    private const double MinimumStep = 0.125;

    private static double Rms(Tensor t) => Math.Sqrt(t.pow(2).mean().to(ScalarType.Float64).item<double>());

    /// <summary>Morozov's τ: stop once RMS(residual) ≤ τ·σ. The textbook choice is a value just above 1.</summary>
    public const double DiscrepancyFactor = 1.1;

    /// <summary>
    /// Back-projects <paramref name="estimate"/> <c>[B,C,H,W]</c> onto <paramref name="observation"/> <c>[B,C,H/s,W/s]</c>.
    /// Returns a new tensor; the estimate is left unchanged.
    /// </summary>
    /// <param name="inn">The forward model (its coarse band simulates the degradation).</param>
    /// <param name="observation">The observed low-quality image (or latent).</param>
    /// <param name="estimate">The starting point (bicubic upscale, or the decoded diffusion result).</param>
    /// <param name="tiling">Windows for the INN passes.</param>
    /// <param name="condition">γ, or null for ones.</param>
    /// <param name="noiseSigma">The observation's noise level (same units as its values); 0 runs all iterations.</param>
    /// <param name="clampToUnitRange">Clamp to [0,1] after each correction (images; not latents).</param>
    /// <param name="corrections">How many corrections were applied (0: the estimate already fit within the noise).</param>
    /// <param name="maxIterations">Upper bound on corrections.</param>
    /// <param name="cancellationToken">Checked between corrections and INN windows.</param>
    public static Tensor Apply(IInvertibleTransform inn, Tensor observation, Tensor estimate, InnTiling tiling, Tensor? condition,
        double noiseSigma, bool clampToUnitRange, out int corrections, int maxIterations = DefaultMaxIterations,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inn);
        ArgumentNullException.ThrowIfNull(observation);
        ArgumentNullException.ThrowIfNull(estimate);
        int s = inn.ScaleFactor;
        double target = DiscrepancyFactor * noiseSigma;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = estimate.clone();
        corrections = 0;
        var residual = observation - tiling.Coarse(inn, x, condition, cancellationToken);
        double rms = Rms(residual);
        double stepSize = 1;
        while (corrections < maxIterations && rms > target && stepSize >= MinimumStep)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var step = NewDisposeScope();
            var up = s == 1 ? residual : MatlabBicubic.Resize(residual.to(ScalarType.Float32), (double)s).to(x.dtype);
            var candidate = x + stepSize * up;
            if (clampToUnitRange)
            {
                candidate.clamp_(0f, 1f);
            }
            var candidateResidual = observation - tiling.Coarse(inn, candidate, condition, cancellationToken);
            double candidateRms = Rms(candidateResidual);
            if (candidateRms >= rms)
            {
                // Backtracking: a forward model far from the bicubic one (an untrained or unrelated INN) can make a
                // full step overshoot; a smaller one is tried, and the estimate is never made less consistent.
                stepSize /= 2;
                continue;
            }
            x.Dispose();
            residual.Dispose();
            x = candidate.MoveToOuterDisposeScope();
            residual = candidateResidual.MoveToOuterDisposeScope();
            rms = candidateRms;
            corrections++;
        }
        return x.MoveToOuterDisposeScope();
    }
}
