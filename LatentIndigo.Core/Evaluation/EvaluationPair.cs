namespace LatentIndigo.Evaluation;

/// <summary>One ground-truth image of an evaluation and, when the low-quality input is given rather than made, its file.</summary>
/// <param name="Name">The file name without extension: the key of the results and of the output images.</param>
/// <param name="HighQualityPath">The ground-truth (HR) image.</param>
/// <param name="LowQualityPath">The matching low-quality (LQ) image, or null when it is made with a degradation spec.</param>
public sealed record EvaluationPair(string Name, string HighQualityPath, string? LowQualityPath);
