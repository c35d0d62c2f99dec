using LatentIndigo.Guidance;
using static TorchSharp.torch;

namespace LatentIndigo.Samples.CustomParts;

/// <summary>
/// A guidance of your own: the paper's pixel-INN step, taken only part of the way (ẑ0 + λ·(guided − ẑ0)). It wraps the
/// built-in guidance the factory makes, which shows that a third-party guidance needs nothing internal.
/// </summary>
internal sealed class DampedGuidanceFactory(double damping) : ILatentGuidanceFactory
{
    public string Name => $"damped-pixel-inn({damping})";

    public GuidanceObservation Observation => PixelInnGuidance.Factory.Observation;

    public ILatentGuidance Create(GuidanceContext context) => new Damped(PixelInnGuidance.Factory.Create(context), damping);

    private sealed class Damped(ILatentGuidance inner, double damping) : ILatentGuidance
    {
        public Tensor Guide(Tensor predictedOriginal, Tensor observation, bool refine, CancellationToken cancellationToken)
        {
            using var guided = inner.Guide(predictedOriginal, observation, refine, cancellationToken);
            return predictedOriginal + (guided - predictedOriginal) * damping;
        }
    }
}
