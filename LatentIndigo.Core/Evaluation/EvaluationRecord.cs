namespace LatentIndigo.Evaluation;

/// <summary>One row of an evaluation: one image restored with one strategy.</summary>
/// <param name="Image">The image name (file name without extension).</param>
/// <param name="Strategy">The strategy as named on the command line (bicubic, inn-only, pixel, latent, none, ...).</param>
/// <param name="Scores">The scores against the ground truth.</param>
/// <param name="Time">The wall-clock time of the restoration.</param>
/// <param name="PeakMemoryBytes">The peak memory measured during the restoration (see the report's notes), 0 if unknown.</param>
public sealed record EvaluationRecord(string Image, string Strategy, EvaluationScores Scores, TimeSpan Time, long PeakMemoryBytes);
