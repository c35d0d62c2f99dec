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
    /// <summary>
    /// INN-only restoration with a known degradation: back-projecting the initial estimate through the INN's forward model
    /// (between <see cref="Preparing"/> and <see cref="Finishing"/>). <see cref="RestoreProgress.Step"/> is the INN pass
    /// running (1-based) of at most <see cref="RestoreProgress.TotalSteps"/>, <see cref="RestoreProgress.Tile"/> the
    /// window of that pass just done of <see cref="RestoreProgress.TotalTiles"/>; a back-projection that stops early
    /// (the estimate fits the observation within its noise) reports Step = TotalSteps when it ends.
    /// </summary>
    BackProjecting = 6,
}
