using LatentIndigo.Degradations;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>
/// The default initial estimate: MATLAB-compatible bicubic upscaling, clamped to [0,1]. Cheap and neutral; a learned
/// restorer plugged in through <see cref="IInitialEstimator"/> gives diffusion a better start.
/// </summary>
public sealed class BicubicUpscaleEstimator : IInitialEstimator
{
    /// <summary>The shared instance (stateless).</summary>
    public static BicubicUpscaleEstimator Instance { get; } = new();

    /// <inheritdoc />
    public Tensor Estimate(Tensor lowQuality, int scaleFactor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lowQuality);
        if (scaleFactor < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(scaleFactor), scaleFactor, "The scale factor must be at least 1.");
        }
        cancellationToken.ThrowIfCancellationRequested();
        return MatlabBicubic.UpscaleEstimate(lowQuality, scaleFactor);
    }
}
