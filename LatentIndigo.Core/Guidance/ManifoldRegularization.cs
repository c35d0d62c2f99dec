using LatentIndigo.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Guidance;

/// <summary>
/// Manifold regularisation (algorithm.md §9.4): pulls ẑ0 towards the VAE's range, z0 ← z0 − ρ·(z0 − E(D(z0))), a
/// gradient step on ½‖z0 − E(D(z0))‖² with E∘D held constant. Keeps latent-space guidance from drifting to latents the
/// decoder renders badly.
/// </summary>
internal static class ManifoldRegularization
{
    /// <summary>Returns z0 − ρ·(z0 − E(D(z0))) as a new tensor.</summary>
    public static Tensor Apply(Vae vae, Tensor predictedOriginal, double rho, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(predictedOriginal);
        if (!(rho > 0 && rho <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rho), rho, "ρ must be in (0, 1].");
        }
        using var scope = torch.NewDisposeScope();
        var decoded = vae.Decode(predictedOriginal, cancellationToken: cancellationToken).clamp_(0f, 1f);
        var projected = vae.Encode(decoded, cancellationToken: cancellationToken);
        return (predictedOriginal - (predictedOriginal - projected) * rho).MoveToOuterDisposeScope();
    }
}
