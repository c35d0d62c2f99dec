using LatentIndigo.Degradations;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Pipeline;

/// <summary>The noise level that stops the back-projection, against what the degradations are known to add.</summary>
public class DegradationSpreadTests
{
    private static Tensor Photo()
    {
        using var photo = ImageIO.Load(TestData.Cc0("coffee.png"));
        return photo.narrow(2, 100, 192).narrow(3, 150, 192).contiguous();
    }

    [Theory]
    [InlineData("bicubic:x4")]
    [InlineData("jpeg:q=30>bicubic:x4")]
    public void A_deterministic_degradation_has_no_spread(string spec)
    {
        using var image = Photo();
        Assert.Equal(0.0, DegradationSpread.Measure(DegradationSpec.Parse(spec), image, 5));
    }

    [Fact]
    public void Gaussian_noise_reads_as_its_sigma()
    {
        // Mid-grey, so the [0,1] clamp never bites: d1 − d2 is the difference of two independent N(0, σ²) draws.
        using var grey = full(new long[] { 1, 3, 192, 192 }, 0.5f);
        double sigma = DegradationSpread.Measure(DegradationSpec.Parse("noise:sigma=10"), grey, 5);
        // 110,592 samples: the RMS estimate's relative standard error is about 1/√(2n) ≈ 0.2 %; 2 % is ten of those.
        Assert.Equal(10 / 255.0, sigma, 10 / 255.0 * 0.02);
    }

    [Fact]
    public void Noise_before_a_downscale_reads_lower_than_after_it()
    {
        using var image = Photo();
        double before = DegradationSpread.Measure(DegradationSpec.Parse("noise:sigma=10>bicubic:x4"), image, 5);
        double after = DegradationSpread.Measure(DegradationSpec.Parse("bicubic:x4>noise:sigma=10"), image, 5);
        Assert.InRange(after, 10 / 255.0 * 0.9, 10 / 255.0 * 1.1);
        Assert.InRange(before, 0.05 * after, 0.5 * after); // the ×4 antialiasing averages the noise over many pixels
    }
}
