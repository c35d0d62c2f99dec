using LatentIndigo.Degradations;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Samples.CustomParts;

/// <summary>
/// A degradation of your own: the mean of each 2×2 block (a camera binning pixels, say). Implementing
/// <see cref="IDegradationModel"/> is all it takes to train an INN for it and to score restorations against it.
/// </summary>
internal sealed class BoxBlurDownscale : IDegradationModel
{
    public int ScaleFactor => 2;

    public string Spec => "box-mean:x2";

    public Tensor Apply(Tensor batch, Generator? generator = null) => nn.functional.avg_pool2d(batch, 2);
}
