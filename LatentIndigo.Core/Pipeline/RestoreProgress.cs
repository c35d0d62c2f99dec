namespace LatentIndigo.Pipeline;

/// <summary>
/// A progress event of <c>RestorationPipeline</c>: one per sampling step per tile, one per INN window of each
/// back-projection pass, plus stage changes. <see cref="TotalSteps"/> is at least 1 and <see cref="Step"/> at most
/// <see cref="TotalSteps"/> in every event, so Step/TotalSteps is always defined.
/// </summary>
/// <param name="Stage">The current stage.</param>
/// <param name="Step">
/// <see cref="RestoreStage.Sampling"/>: the sampling step running (1-based); <see cref="RestoreStage.BackProjecting"/>: the
/// INN pass running (1-based); other stages: 0 when they start (1 for <see cref="RestoreStage.Completed"/>).
/// </param>
/// <param name="TotalSteps">Sampling steps per tile, the back-projection's INN passes at most, or 1 for stages without steps.</param>
/// <param name="Tile">Index of the latent tile (sampling) or INN window (back-projection) just done (0 when not tiling).</param>
/// <param name="TotalTiles">Number of latent tiles or INN windows per pass (1 when not tiling).</param>
/// <param name="Elapsed">Time since the restoration started.</param>
/// <param name="IterationsPerSecond">Tile-steps (sampling) or windows (back-projection) per second of the stage so far (0 before the first).</param>
public sealed record RestoreProgress(
    RestoreStage Stage,
    int Step,
    int TotalSteps,
    int Tile,
    int TotalTiles,
    TimeSpan Elapsed,
    double IterationsPerSecond);
