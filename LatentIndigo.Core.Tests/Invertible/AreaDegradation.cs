using LatentIndigo.Degradations;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

/// <summary>Test-only degradation: mean over factor×factor blocks (a box filter then subsampling).</summary>
internal sealed class AreaDegradation(int factor) : IDegradationModel
{
    public int ScaleFactor => factor;

    public string Spec => $"area:x{factor}";

    public Tensor Apply(Tensor batch, Generator? generator = null) => nn.functional.avg_pool2d(batch, factor);
}
