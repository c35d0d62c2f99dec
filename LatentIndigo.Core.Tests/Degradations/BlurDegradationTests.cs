using LatentIndigo.Degradations;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Degradations;

public class BlurDegradationTests
{
    public static TheoryData<double[]> Kernels => new()
    {
        new double[] { 0, 0.1, 0, 0.2, 0.3, 0.1, 0, 0.25, 0.05 },               // general: one 2-D convolution
        new double[] { 0.02, 0.12, 0.06, 0.05, 0.3, 0.15, 0.03, 0.18, 0.09 },    // [0.2,0.5,0.3]ᵀ·[0.1,0.6,0.3]: two 1-D passes
    };

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Filters_each_channel_with_reflect_padding(double[] kernel)
    {
        using var g = new Generator(1, torch.CPU);
        using var x = torch.rand([2, 3, 9, 10], generator: g);
        var blur = BlurDegradation.FromValues(kernel);
        using var y = blur.Apply(x);
        var xs = x.to(ScalarType.Float64).data<double>().ToArray();
        var ys = y.to(ScalarType.Float64).data<double>().ToArray();
        // Plain-loop cross-correlation with reflect (edge pixel not repeated) indices.
        static int Reflect(int i, int n) => i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
        for (var n = 0; n < 2; n++)
        {
            for (var c = 0; c < 3; c++)
            {
                for (var r = 0; r < 9; r++)
                {
                    for (var q = 0; q < 10; q++)
                    {
                        var s = 0.0;
                        for (var dr = -1; dr <= 1; dr++)
                        {
                            for (var dq = -1; dq <= 1; dq++)
                            {
                                s += kernel[(dr + 1) * 3 + dq + 1] * xs[((n * 3 + c) * 9 + Reflect(r + dr, 9)) * 10 + Reflect(q + dq, 10)];
                            }
                        }
                        Assert.True(Math.Abs(s - ys[((n * 3 + c) * 9 + r) * 10 + q]) < 1e-6);
                    }
                }
            }
        }
    }

    [Fact]
    public void Only_rank_one_kernels_take_the_separable_path()
    {
        // The double-precision kernels the operators use (a float32 copy is rank one only to rounding).
        static double[] Gaussian(double sx, double sy, double theta) =>
            KernelMath.Bivariate(KernelMath.Shape.Gaussian, 13, sx, sy, theta, 1, sx == sy && theta == 0, "test");
        Assert.True(KernelConvolution.TrySeparate(Gaussian(2, 2, 0), 13, out var column, out var row));
        Assert.Equal(1.0, column.Sum() * row.Sum(), 5);
        Assert.True(KernelConvolution.TrySeparate(Gaussian(3, 1, 0), 13, out _, out _));
        Assert.False(KernelConvolution.TrySeparate(Gaussian(3, 1, 0.5), 13, out _, out _));
        Assert.False(KernelConvolution.TrySeparate(KernelMath.CircularLowpass(13, 1.5, "test"), 13, out _, out _));
    }

    [Fact]
    public void Normalised_blurs_keep_constants_and_mean()
    {
        using var flat = torch.full([1, 3, 32, 32], 0.4f);
        foreach (var blur in new[] { BlurDegradation.Gaussian(2), BlurDegradation.AnisotropicGaussian(3, 1, 0.4), BlurDegradation.Sinc(1.0), BlurDegradation.Motion(7, 30), BlurDegradation.Plateau(2, 1, 0, 1.5) })
        {
            using var y = blur.Apply(flat);
            Assert.True(y.sub(0.4f).abs().max().item<float>() < 1e-5f, blur.Spec);
        }
    }

    [Fact]
    public void Too_small_images_get_a_clear_error()
    {
        using var tiny = torch.rand([1, 3, 5, 5]);
        var ex = Assert.Throws<DegradationException>(() => BlurDegradation.Gaussian(2, 13).Apply(tiny));
        Assert.Contains("at least 7x7", ex.Message);
    }

    [Fact]
    public void Random_motion_blur_is_reproducible_and_records_its_path()
    {
        using var g = new Generator(1, torch.CPU);
        using var x = torch.rand([2, 3, 24, 24], generator: g);
        var blur = new RandomMotionBlur(9);
        using var g1 = new Generator(5, torch.CPU);
        using var g2 = new Generator(5, torch.CPU);
        var trace = new DegradationTrace(2);
        using var a = blur.Apply(x, g1, trace);
        using var b = blur.Apply(x, g2);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a[0].allclose(b[1])); // a new path per image
        var step = Assert.Single(trace.StepsOf(1));
        Assert.Equal("trajectory", step.Operator);
        Assert.IsType<double[]>(step.Parameters["pathX"]);
    }
}
