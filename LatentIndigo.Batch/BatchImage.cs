namespace LatentIndigo.Batch;

/// <summary>One image of a batch: the low-quality input and, optionally, its ground truth (for the evaluation table).</summary>
/// <param name="InputPath">The low-quality input file.</param>
/// <param name="GroundTruthPath">The ground-truth (high-quality) image, or null.</param>
public sealed record BatchImage(string InputPath, string? GroundTruthPath = null)
{
    /// <summary>The output's file name: the input's name with <c>.png</c> (outputs are always PNG: lossless, byte-stable).</summary>
    public string OutputName => Path.GetFileNameWithoutExtension(InputPath) + ".png";
}
