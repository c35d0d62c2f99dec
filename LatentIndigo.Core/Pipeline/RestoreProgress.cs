namespace LatentIndigo.Pipeline;

/// <summary>A progress event of <c>RestorationPipeline</c>: one per sampling step per tile, plus stage changes.</summary>
/// <param name="Stage">The current stage.</param>
/// <param name="Step">Sampling steps done so far in this tile (0 outside sampling).</param>
/// <param name="TotalSteps">Sampling steps per tile.</param>
/// <param name="Tile">Index of the current latent tile (0 when not tiling).</param>
/// <param name="TotalTiles">Number of latent tiles (1 when not tiling).</param>
/// <param name="Elapsed">Time since the restoration started.</param>
/// <param name="IterationsPerSecond">Sampling steps per second so far (0 before the first step).</param>
public sealed record RestoreProgress(
    RestoreStage Stage,
    int Step,
    int TotalSteps,
    int Tile,
    int TotalTiles,
    TimeSpan Elapsed,
    double IterationsPerSecond);
