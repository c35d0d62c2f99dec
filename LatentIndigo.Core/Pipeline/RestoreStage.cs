namespace LatentIndigo.Pipeline;

/// <summary>The stage a restoration is in, reported through <see cref="RestoreProgress"/>.</summary>
public enum RestoreStage
{
    /// <summary>Validating and padding the input, computing the initial estimate.</summary>
    Preparing,
    /// <summary>Encoding the initial estimate (and the observation) with the VAE.</summary>
    Encoding,
    /// <summary>The guided sampling loop; <see cref="RestoreProgress.Step"/> counts steps.</summary>
    Sampling,
    /// <summary>Decoding the final latent.</summary>
    Decoding,
    /// <summary>Colour fix, measurement-consistent finish, cropping.</summary>
    Finishing,
    /// <summary>Done.</summary>
    Completed,
}
