namespace LatentIndigo.Diffusion;

/// <summary>Which output an export's VAE encoder has.</summary>
internal enum VaeEncoderOutputKind
{
    /// <summary><c>latent_sample</c>: C channels, already sampled (older diffusers-script exports).</summary>
    LatentSample,

    /// <summary><c>latent_parameters</c>: 2C channels, mean then log-variance (optimum since Oct 2024); the mean is used.</summary>
    LatentParameters,
}
