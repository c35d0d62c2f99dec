using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>
/// Produces the initial high-resolution estimate that sampling starts from (noised to the start timestep) and that the
/// colour fix takes its low frequencies from. Plug in a stronger restorer (SwinIR, Real-ESRGAN, ...) here.
/// </summary>
public interface IInitialEstimator
{
    /// <summary>
    /// Returns an estimate <c>[N,3,H·s,W·s]</c> in [0,1] for a low-quality batch <c>[N,3,H,W]</c> in [0,1] and scale s.
    /// </summary>
    Tensor Estimate(Tensor lowQuality, int scaleFactor, CancellationToken cancellationToken = default);
}
