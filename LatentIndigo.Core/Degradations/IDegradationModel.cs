using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// A degradation: maps a batch of clean images to degraded ones. The INN learns to imitate it, evaluation uses it to
/// make low-quality inputs, and users implement it for their own degradations.
/// </summary>
public interface IDegradationModel
{
    /// <summary>Integer down-scaling factor: output height and width are the input's divided by it (1 = same size).</summary>
    int ScaleFactor { get; }

    /// <summary>A spec string that recreates this degradation (see <c>DegradationSpec.Parse</c>).</summary>
    string Spec { get; }

    /// <summary>
    /// Degrades a batch <c>[N,C,H,W]</c> float32 in [0,1] (CPU or CUDA) and returns a new tensor on the same device.
    /// Random degradations draw only from <paramref name="generator"/>, so a seeded generator gives the same output.
    /// </summary>
    Tensor Apply(Tensor batch, Generator? generator = null);
}
