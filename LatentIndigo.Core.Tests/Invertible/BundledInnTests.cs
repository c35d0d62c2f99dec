using LatentIndigo.Degradations;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

/// <summary>
/// The shipped weights: they load from the library's embedded resources with their options and metadata, and the
/// bicubic network imitates MATLAB bicubic ×4 (computed here by the Degradations layer, not by the INN).
/// </summary>
public class BundledInnTests
{
    [Fact]
    public void Bicubic_x4_inn_imitates_matlab_bicubic_downscaling()
    {
        using var scope = NewDisposeScope();
        using var inn = BundledInn.Load(BundledInnWeights.BicubicX4);
        Assert.Equal("bicubic:x4", inn.Metadata["degradation"]);
        Assert.Equal(LiftingInnOptions.Pixel().ToString(), inn.Options.ToString());
        // A 256×256 centre crop of a CC0 photo (a training image: this guards the shipped file, the card reports validation).
        var photo = ImageIO.Load(TestData.Cc0("coffee.png"));
        var x = photo.narrow(2, (photo.shape[2] - 256) / 2, 256).narrow(3, (photo.shape[3] - 256) / 2, 256);
        var y = MatlabBicubic.Resize(x, 0.25);
        using var decomposition = inn.Forward(x, null);
        double psnr = InnEvaluation.Psnr(decomposition.Coarse, y);
        Assert.True(psnr > 38, $"coarse vs MATLAB bicubic: {psnr:F2} dB");
        // And far better than plain subsampling, the untrained starting point.
        var s = TensorIndex.Slice(0, null, 4);
        Assert.True(psnr > InnEvaluation.Psnr(x[TensorIndex.Colon, TensorIndex.Colon, s, s], y) + 8);
    }

    [Fact]
    public void Real_world_x4_inn_loads_with_its_metadata()
    {
        using var inn = BundledInn.Load(BundledInnWeights.RealWorldX4);
        // Trained on a mixture that includes the Real-ESRGAN pipeline, with a degradation encoder (docs/inn-training.md).
        Assert.Contains("realesrgan:x4", DegradationSpec.Parse(inn.Metadata["degradation"]) is MixtureDegradation mix
            ? mix.Alternatives.Select(a => a.Spec) : [inn.Metadata["degradation"]]);
        Assert.NotNull(inn.Encoder);
        Assert.Equal(4, inn.ScaleFactor);
        Assert.True(BundledInn.TryParse("REALWORLD-X4", out var parsed));
        Assert.Equal(BundledInnWeights.RealWorldX4, parsed);
        Assert.False(BundledInn.TryParse("x4", out _));
    }
}
