using static TorchSharp.torch;

namespace LatentIndigo.Evaluation;

/// <summary>
/// A learned full-reference metric (e.g. LPIPS) that the caller brings: lower or higher is better as the metric defines.
/// LatentIndigo ships none, since such metrics need pretrained weights; see <see cref="OnnxPerceptualMetric"/>.
/// </summary>
public interface IPerceptualMetric
{
    /// <summary>The column name of the metric in reports (letters, digits, '_' and '-').</summary>
    string Name { get; }

    /// <summary>The metric of <paramref name="output"/> against <paramref name="reference"/>: <c>[1,3,H,W]</c> RGB in [0,1], same size.</summary>
    double Compute(Tensor output, Tensor reference);
}
