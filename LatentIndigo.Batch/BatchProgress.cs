namespace LatentIndigo.Batch;

/// <summary>Progress of a batch: counts, the images being restored and the estimated time left.</summary>
/// <param name="Total">Images in the job.</param>
/// <param name="Done">Images done (including those done before a resume).</param>
/// <param name="Failed">Images failed in this run.</param>
/// <param name="Elapsed">Time since this run started.</param>
/// <param name="Remaining">Estimated time until every image is done or failed; null until one image has finished in this run.</param>
/// <param name="Running">The images being restored now.</param>
public sealed record BatchProgress(int Total, int Done, int Failed, TimeSpan Elapsed, TimeSpan? Remaining, IReadOnlyList<BatchImageProgress> Running);

/// <summary>Progress of one image of a batch.</summary>
/// <param name="InputPath">The input.</param>
/// <param name="Fraction">How far its restoration is, 0–1 (from the sampling steps and tiles).</param>
/// <param name="Elapsed">Time since it started.</param>
/// <param name="Remaining">Estimated time left for it; null until 5 % is done.</param>
public sealed record BatchImageProgress(string InputPath, double Fraction, TimeSpan Elapsed, TimeSpan? Remaining);
