namespace LatentIndigo.Pipeline;

/// <summary>How the diffusion sampler is guided towards the observed low-quality image.</summary>
public enum GuidanceStrategy
{
    /// <summary>
    /// Decode the clean-latent estimate, take a gradient step through the pixel INN in image space, encode back
    /// (LatentINDIGO-PixelINN). Costs a VAE decode and encode per guided step.
    /// </summary>
    PixelInn,

    /// <summary>
    /// Guide the clean-latent estimate directly in latent space through a latent INN against the encoded observation
    /// (LatentINDIGO-LatentINN). The VAE runs only at the start, for manifold regularisation and at the end.
    /// Needs a latent INN trained for the export's VAE (<c>train-inn --latent</c>).
    /// </summary>
    LatentInn,

    /// <summary>Plain sampling from the noised initial estimate, without INN guidance (a baseline).</summary>
    None,

    /// <summary>No diffusion: the INN's inverse applied to the initial estimate's details (the fast fallback).</summary>
    InnOnly,
}
