using LatentIndigo.Degradations;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>How <see cref="InnBackProjection"/> chooses its corrections.</summary>
internal enum BackProjectionMethod
{
    /// <summary>
    /// Anderson-accelerated back-projection (issue 24): each correction combines the last few residuals so that 3
    /// corrections (4 INN passes) reach what 8 plain corrections reached (docs/benchmarks.md). The default.
    /// </summary>
    Accelerated = 0,

    /// <summary>The method before issue 24: up to 8 plain corrections x ← x + λ·U(r). Kept for side-by-side benchmarks.</summary>
    Plain = 1,
}

/// <summary>Where a back-projection is: INN pass <see cref="Pass"/> (1-based) of at most <see cref="Passes"/>, window <see cref="Window"/> of <see cref="Windows"/> done.</summary>
internal readonly record struct BackProjectionProgress(int Pass, int Passes, int Window, int Windows);

/// <summary>The outcome of a back-projection: the image, its coarse band (the INN's simulated degradation of it), and the work done.</summary>
/// <param name="Image">The back-projected estimate.</param>
/// <param name="Coarse">The coarse band of <paramref name="Image"/>, from the last INN pass (no further pass is needed to score it).</param>
/// <param name="Corrections">Corrections applied (0: the estimate already fit within the noise).</param>
/// <param name="Passes">INN forward passes run.</param>
internal sealed record BackProjectionResult(Tensor Image, Tensor Coarse, int Corrections, int Passes);

/// <summary>
/// Makes an estimate consistent with the observation through the INN's forward model without the INN's inverse:
/// iterative back-projection (Irani and Peleg, 1991) x = x₀ + U(v), with U the MATLAB bicubic upscale of a
/// low-resolution correction v, driven by the residual r = y − coarse(g(x)) and stopped by Morozov's discrepancy
/// principle once the residual is down to the observation's noise level. A correction that would not lower the residual
/// is retried with half the step, so the result is never less consistent than the estimate.
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
/// <para>Why Anderson acceleration (<see cref="BackProjectionMethod.Accelerated"/>): the plain correction v ← v + r
/// (Richardson's iteration on r(v) = 0) shrinks each residual component by the factor 1 − μ, with μ the gain of the
/// INN's coarse band on a bicubic upscale of it; fine detail has a small μ and converges slowly (PSNR-Y of kodim15 was
/// still rising after 8 corrections). The forward model is nearly linear, so the next correction is taken from the
/// combination of the last residuals that a linear model says is smallest (Anderson type II, i.e. GMRES on the linear
/// part), with a relaxation of <see cref="AcceleratedRelaxation"/>. Measured on kodim13–24 (bicubic:x4): 3 such
/// corrections with β = 3 give the same mean PSNR-Y as 8 plain ones (27.4175 dB both; per image −0.0015…+0.0025 dB;
/// on kodim01–12, +0.0005 dB against 4 corrections with β = 1.5; docs/evaluation.md), so an INN-only restore runs 4 INN
/// passes instead of 10. A smaller β needs 4 corrections for that (β 1.5–2.0 with 3 lose 0.003–0.005 dB); a larger one
/// overshoots on the first step and backtracks to half of it.</para>
/// </remarks>
internal static class InnBackProjection
{
    /// <summary>At most this many plain corrections (each one INN forward pass over the image).</summary>
    public const int DefaultMaxIterations = 8;

    /// <summary>At most this many accelerated corrections.</summary>
    public const int DefaultAcceleratedCorrections = 3;

    /// <summary>Residuals the accelerated method combines (the newest and up to this many before it).</summary>
    public const int AcceleratedDepth = 4;

    /// <summary>The accelerated method's relaxation β: the correction adds β times the combined residual.</summary>
    public const double AcceleratedRelaxation = 3.0;

    /// <summary>Anderson coefficients above this size mean a near-singular history: the plain step is taken instead.</summary>
    private const double MaxAndersonCoefficient = 1e6;

    /// <summary>Backtracking gives up below this step size (three halvings of the full step).</summary>
    private const double MinimumStep = 0.125;

    private static double Rms(Tensor t) => Math.Sqrt(t.pow(2).mean().to(ScalarType.Float64).item<double>());

    /// <summary>Morozov's τ: stop once RMS(residual) ≤ τ·σ. The textbook choice is a value just above 1.</summary>
    public const double DiscrepancyFactor = 1.1;

    /// <summary>
    /// Back-projects <paramref name="estimate"/> <c>[B,C,H,W]</c> onto <paramref name="observation"/> <c>[B,C,H/s,W/s]</c>
    /// with the plain method (<see cref="BackProjectionMethod.Plain"/>). Returns a new tensor; the estimate is left unchanged.
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
        var result = Run(inn, observation, estimate, tiling, condition, noiseSigma, clampToUnitRange, BackProjectionMethod.Plain,
            maxIterations, progress: null, cancellationToken);
        corrections = result.Corrections;
        result.Coarse.Dispose();
        return result.Image;
    }

    /// <summary>
    /// Back-projects <paramref name="estimate"/> <c>[B,C,H,W]</c> onto <paramref name="observation"/> <c>[B,C,H/s,W/s]</c>.
    /// The result's tensors are new (in the caller's dispose scope); the estimate is left unchanged.
    /// </summary>
    /// <param name="inn">The forward model (its coarse band simulates the degradation).</param>
    /// <param name="observation">The observed low-quality image (or latent).</param>
    /// <param name="estimate">The starting point (bicubic upscale, or the decoded diffusion result).</param>
    /// <param name="tiling">Windows for the INN passes.</param>
    /// <param name="condition">γ, or null for ones.</param>
    /// <param name="noiseSigma">The observation's noise level (same units as its values); 0 runs all corrections.</param>
    /// <param name="clampToUnitRange">Clamp to [0,1] (images; not latents).</param>
    /// <param name="method">Plain or accelerated corrections.</param>
    /// <param name="maxCorrections">Upper bound on corrections; null for the method's default.</param>
    /// <param name="progress">Called after each INN window; null for none.</param>
    /// <param name="cancellationToken">Checked between corrections and INN windows.</param>
    public static BackProjectionResult Run(IInvertibleTransform inn, Tensor observation, Tensor estimate, InnTiling tiling, Tensor? condition,
        double noiseSigma, bool clampToUnitRange, BackProjectionMethod method, int? maxCorrections = null,
        Action<BackProjectionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inn);
        ArgumentNullException.ThrowIfNull(observation);
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(tiling);
        int limit = maxCorrections ?? (method == BackProjectionMethod.Plain ? DefaultMaxIterations : DefaultAcceleratedCorrections);
        ArgumentOutOfRangeException.ThrowIfNegative(limit, nameof(maxCorrections));
        int s = inn.ScaleFactor;
        double target = DiscrepancyFactor * noiseSigma;
        // Progress counts INN passes: the first, one per correction, one per retry with a smaller step (rare: the total
        // grows by one when it happens, so that Step never exceeds TotalSteps).
        int passes = 0, retries = 0, lastWindows = 1;
        int TotalPasses() => 1 + limit + retries;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        // One INN pass: the residual y − coarse(g(x)), reporting each window.
        Tensor Residual(Tensor x)
        {
            int pass = ++passes;
            using var coarse = tiling.Coarse(inn, x, condition,
                progress is null ? null : (done, windows) =>
                {
                    lastWindows = windows;
                    progress(new BackProjectionProgress(pass, TotalPasses(), done, windows));
                },
                cancellationToken);
            return observation - coarse;
        }

        Tensor Upscale(Tensor lowResolution) =>
            s == 1 ? lowResolution.alias() : MatlabBicubic.Resize(lowResolution.to(ScalarType.Float32), (double)s).to(estimate.dtype);

        var x = estimate.clone();
        var residual = Residual(x);
        double rms = Rms(residual);
        int corrections = 0;
        double stepSize = method == BackProjectionMethod.Plain ? 1 : AcceleratedRelaxation;
        double minimumStep = MinimumStep * stepSize;
        // Accelerated: the correction v of each accepted iterate (x = x₀ + U(v), clamped) and its residual, oldest first.
        var previousV = new List<Tensor>();
        var residuals = new List<Tensor>();
        Tensor v = zeros_like(residual);
        while (corrections < limit && rms > target && stepSize >= minimumStep)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var step = NewDisposeScope();
            Tensor candidate, candidateV;
            if (method == BackProjectionMethod.Plain)
            {
                candidateV = v; // the plain method keeps x itself
                candidate = x + stepSize * Upscale(residual);
            }
            else
            {
                candidateV = AndersonStep(v, residual, previousV, residuals, stepSize);
                candidate = estimate + Upscale(candidateV);
            }
            if (clampToUnitRange)
            {
                candidate.clamp_(0f, 1f);
            }
            var candidateResidual = Residual(candidate);
            double candidateRms = Rms(candidateResidual);
            if (candidateRms >= rms)
            {
                // Backtracking: a forward model far from the bicubic one (an untrained or unrelated INN) can make a
                // full step overshoot; a smaller one is tried, and the estimate is never made less consistent. The
                // accelerated method also forgets its history (the linear model it relied on did not hold).
                stepSize /= 2;
                retries++;
                foreach (var t in previousV.Concat(residuals))
                {
                    t.Dispose();
                }
                previousV.Clear();
                residuals.Clear();
                continue;
            }
            if (method == BackProjectionMethod.Accelerated)
            {
                // Both live in this method's scope already.
                previousV.Add(v);
                residuals.Add(residual);
                if (residuals.Count > AcceleratedDepth)
                {
                    previousV[0].Dispose();
                    residuals[0].Dispose();
                    previousV.RemoveAt(0);
                    residuals.RemoveAt(0);
                }
                v = candidateV.MoveToOuterDisposeScope();
            }
            else
            {
                residual.Dispose();
            }
            x.Dispose();
            x = candidate.MoveToOuterDisposeScope();
            residual = candidateResidual.MoveToOuterDisposeScope();
            rms = candidateRms;
            corrections++;
        }
        if (progress is not null && passes < TotalPasses())
        {
            // Stopped before the limit (fit within the noise, or no step left that lowers the residual): done.
            progress(new BackProjectionProgress(TotalPasses(), TotalPasses(), lastWindows, lastWindows));
        }
        var coarseOfResult = observation - residual;
        return new BackProjectionResult(x.MoveToOuterDisposeScope(), coarseOfResult.MoveToOuterDisposeScope(), corrections, passes);
    }

    /// <summary>
    /// The next correction: Anderson type II over the accepted corrections vᵢ and their residuals rᵢ (plus the current
    /// ones). Minimises ‖r + Σγᵢ(rᵢ − r)‖ over γ (a small least-squares problem in float64), then returns
    /// v + Σγᵢ(vᵢ − v) + β·(r + Σγᵢ(rᵢ − r)). With no history it is the plain step v + β·r.
    /// </summary>
    internal static Tensor AndersonStep(Tensor v, Tensor residual, List<Tensor> previousV, List<Tensor> previousResiduals, double beta)
    {
        int m = previousResiduals.Count;
        if (m == 0)
        {
            return v + beta * residual;
        }
        using var scope = NewDisposeScope();
        var r = residual.flatten().to(ScalarType.Float64);
        var differences = stack(previousResiduals.Select(p => p.flatten().to(ScalarType.Float64) - r).ToArray(), 1); // [N, m]
        // The m×m system is solved on the CPU whatever the images' device: it is tiny, and its coefficients are read
        // back anyway (a CUDA tensor's data cannot be read in place, and a CPU ridge cannot be added to a CUDA matrix).
        var gram = differences.t().matmul(differences).cpu();
        var rightHandSide = (-differences.t().matmul(r)).cpu();
        // A tiny ridge keeps the solve defined when two residuals are (nearly) parallel.
        gram += eye(m, dtype: ScalarType.Float64) * (1e-10 * gram.diagonal().sum().item<double>() + 1e-300);
        var gamma = linalg.solve(gram, rightHandSide).data<double>().ToArray();
        if (gamma.Any(g => !double.IsFinite(g) || Math.Abs(g) > MaxAndersonCoefficient))
        {
            // Residuals that (nearly) repeat make the least squares meaningless: its coefficients would only amplify
            // rounding. The plain step still lowers the residual, and the backtracking check guards it as any other.
            return (v + beta * residual).MoveToOuterDisposeScope();
        }
        var combinedV = v.clone();
        var combinedResidual = residual.clone();
        for (int i = 0; i < m; i++)
        {
            combinedV.add_(previousV[i] - v, alpha: gamma[i]);
            combinedResidual.add_(previousResiduals[i] - residual, alpha: gamma[i]);
        }
        return (combinedV + beta * combinedResidual).MoveToOuterDisposeScope();
    }
}
