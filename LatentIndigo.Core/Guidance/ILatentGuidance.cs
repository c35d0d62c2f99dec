using static TorchSharp.torch;

namespace LatentIndigo.Guidance;

/// <summary>
/// Guides the sampler's clean-latent estimate ẑ0 towards consistency with the observation (algorithm.md §9.1: the
/// guided variable is ẑ0, no gradient flows through the UNet). One instance serves one image, made by an
/// <see cref="ILatentGuidanceFactory"/>; the pipeline calls <see cref="Guide"/> once per guided step and batch of tiles,
/// always from one thread.
/// </summary>
public interface ILatentGuidance
{
    /// <summary>
    /// Returns the guided ẑ0 (a new tensor, owned by the caller) for a latent (tile) <paramref name="predictedOriginal"/>
    /// <c>[B,C,h,w]</c> (B tiles, each guided as if alone) and the matching crops of the observation: the low-quality
    /// image or its latent, as <see cref="ILatentGuidanceFactory.Observation"/> says. With <paramref name="refine"/>, the
    /// INN's forward model also takes its refinement step(s) on this estimate (blind mode).
    /// </summary>
    Tensor Guide(Tensor predictedOriginal, Tensor observation, bool refine, CancellationToken cancellationToken);
}
