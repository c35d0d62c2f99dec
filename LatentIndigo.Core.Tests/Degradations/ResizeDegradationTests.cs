using LatentIndigo.Degradations;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Degradations;

public class ResizeDegradationTests
{
    private static Tensor RandomBatch(long seed, params long[] shape)
    {
        using var g = new Generator((ulong)seed, torch.CPU);
        return torch.rand(shape, generator: g);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Area_is_the_block_mean(int factor)
    {
        using var x = RandomBatch(1, 2, 3, 6 * factor, 4 * factor);
        using var y = new ResizeDegradation(factor, ResizeMethod.Area).Apply(x);
        using var expected = torch.nn.functional.avg_pool2d(x, factor);
        Assert.True(y.allclose(expected, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Nearest_picks_the_pixel_matlab_picks()
    {
        using var x = RandomBatch(2, 1, 1, 16, 12);
        using var y = new ResizeDegradation(4, ResizeMethod.Nearest).Apply(x);
        // Output pixel i (1-based) maps to input 4i − 1.5; the half-open box picks input 4i − 1, i.e. 0-based 4i − 2.
        for (var i = 1; i <= 4; i++)
        {
            for (var j = 1; j <= 3; j++)
            {
                Assert.Equal(x[0, 0, 4 * i - 2, 4 * j - 2].item<float>(), y[0, 0, i - 1, j - 1].item<float>());
            }
        }
    }

    [Fact]
    public void Bilinear_matches_the_independent_reference()
    {
        using var x = RandomBatch(3, 1, 1, 12, 9);
        using var y = new ResizeDegradation(3, ResizeMethod.Bilinear).Apply(x);
        var img = new double[12, 9];
        var xs = x.to(ScalarType.Float64).data<double>().ToArray();
        for (var r = 0; r < 12; r++)
        {
            for (var c = 0; c < 9; c++)
            {
                img[r, c] = xs[r * 9 + c];
            }
        }
        var expected = MatlabReference.Resize2D(img, 4, 3, 1.0 / 3, 1.0 / 3, MatlabReference.Triangle, 1);
        for (var r = 0; r < 4; r++)
        {
            for (var c = 0; c < 3; c++)
            {
                Assert.True(Math.Abs(expected[r, c] - y[0, 0, r, c].item<float>()) < 1e-6);
            }
        }
    }

    [Fact]
    public void Bicubic_degradation_is_matlab_bicubic_and_spec_reads_back()
    {
        using var x = RandomBatch(4, 2, 3, 32, 24);
        var model = new ResizeDegradation(4);
        Assert.Equal("bicubic:x4", model.Spec);
        Assert.Equal(4, model.ScaleFactor);
        using var y = model.Apply(x);
        using var expected = MatlabBicubic.Resize(x, 0.25);
        Assert.True(y.allclose(expected, rtol: 0, atol: 1e-7));
    }

    [Fact]
    public void Sizes_not_divisible_by_the_factor_are_refused_with_the_crop_to_use()
    {
        using var x = RandomBatch(5, 1, 3, 30, 33);
        var ex = Assert.Throws<DegradationException>(() => new ResizeDegradation(4).Apply(x));
        Assert.Contains("32x28", ex.Message);
        Assert.Throws<DegradationException>(() => new ResizeDegradation(0));
        Assert.Throws<DegradationException>(() => new ResizeDegradation(17));
    }

    [Fact]
    public void Bad_batches_are_refused()
    {
        var model = new ResizeDegradation(2);
        using var threeD = torch.rand([3, 8, 8]);
        Assert.Contains("unsqueeze", Assert.Throws<DegradationException>(() => model.Apply(threeD)).Message);
        using var half = torch.rand([1, 3, 8, 8]).to(ScalarType.Float16);
        Assert.Contains("float32", Assert.Throws<DegradationException>(() => model.Apply(half)).Message);
        using var inf = torch.full([1, 3, 8, 8], float.PositiveInfinity);
        Assert.Contains("NaN or infinite", Assert.Throws<DegradationException>(() => model.Apply(inf)).Message);
        using var empty = torch.zeros([0, 3, 8, 8]);
        Assert.Contains("empty", Assert.Throws<DegradationException>(() => model.Apply(empty)).Message);
    }
}
