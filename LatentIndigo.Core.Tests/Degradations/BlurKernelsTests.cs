using LatentIndigo.Degradations;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Degradations;

public class BlurKernelsTests
{
    private static double[,] ToArray(Tensor k)
    {
        var n = (int)k.shape[0];
        var flat = k.to(ScalarType.Float64).data<double>().ToArray();
        var a = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                a[i, j] = flat[i * n + j];
            }
        }
        return a;
    }

    private static double Sum(double[,] a) => a.Cast<double>().Sum();

    [Fact]
    public void Isotropic_gaussian_is_the_normalised_radial_exponential()
    {
        const int Size = 21;
        const double Sigma = 2.3;
        using var k = BlurKernels.BivariateGaussian(Size, Sigma, 99, 1.0, isotropic: true); // σy and θ ignored
        Assert.Equal(new long[] { Size, Size }, k.shape);
        var a = ToArray(k);
        var z = 0.0;
        for (var y = -10; y <= 10; y++)
        {
            for (var x = -10; x <= 10; x++)
            {
                z += Math.Exp(-(x * x + y * y) / (2 * Sigma * Sigma));
            }
        }
        for (var y = -10; y <= 10; y++)
        {
            for (var x = -10; x <= 10; x++)
            {
                Assert.Equal(Math.Exp(-(x * x + y * y) / (2 * Sigma * Sigma)) / z, a[y + 10, x + 10], 7);
            }
        }
    }

    [Theory]
    [InlineData(3.0, 1.0, 0.0)]
    [InlineData(3.0, 1.0, 0.6)]
    [InlineData(0.7, 2.5, -2.2)]
    public void Anisotropic_gaussian_matches_rotated_coordinates(double sx, double sy, double theta)
    {
        const int Size = 15;
        using var k = BlurKernels.BivariateGaussian(Size, sx, sy, theta, isotropic: false);
        var a = ToArray(k);
        Assert.Equal(1.0, Sum(a), 5);
        // Independent form: rotate the offset by −θ into the kernel's axes, then an axis-aligned Gaussian.
        var expected = new double[Size, Size];
        var z = 0.0;
        for (var r = 0; r < Size; r++)
        {
            for (var c = 0; c < Size; c++)
            {
                double x = c - 7, y = r - 7;
                var u = Math.Cos(theta) * x + Math.Sin(theta) * y;
                var v = -Math.Sin(theta) * x + Math.Cos(theta) * y;
                expected[r, c] = Math.Exp(-0.5 * (u * u / (sx * sx) + v * v / (sy * sy)));
                z += expected[r, c];
            }
        }
        for (var r = 0; r < Size; r++)
        {
            for (var c = 0; c < Size; c++)
            {
                Assert.Equal(expected[r, c] / z, a[r, c], 6);
                // Point symmetry: k(x) = k(−x).
                Assert.Equal(a[r, c], a[Size - 1 - r, Size - 1 - c], 6);
            }
        }
    }

    [Fact]
    public void Quarter_turn_swaps_the_axes()
    {
        using var turned = BlurKernels.BivariateGaussian(11, 3, 1, Math.PI / 2, false);
        using var swapped = BlurKernels.BivariateGaussian(11, 1, 3, 0, false);
        using var transposed = BlurKernels.BivariateGaussian(11, 3, 1, 0, false).t();
        Assert.True(turned.allclose(swapped, rtol: 0, atol: 1e-6));
        Assert.True(turned.allclose(transposed, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Generalized_gaussian_with_beta_one_is_the_gaussian_and_plateau_has_its_closed_form()
    {
        using var g = BlurKernels.BivariateGaussian(13, 2, 1.5, 0.3, false);
        using var gg = BlurKernels.GeneralizedGaussian(13, 2, 1.5, 0.3, 1.0, false);
        Assert.True(g.allclose(gg, rtol: 0, atol: 1e-7));

        const double Sigma = 1.7, Beta = 1.5;
        using var p = BlurKernels.Plateau(9, Sigma, 0, 0, Beta, isotropic: true);
        var a = ToArray(p);
        var z = 0.0;
        var e = new double[9, 9];
        for (var r = 0; r < 9; r++)
        {
            for (var c = 0; c < 9; c++)
            {
                var q = ((r - 4) * (r - 4) + (c - 4) * (c - 4)) / (Sigma * Sigma);
                e[r, c] = 1 / (Math.Pow(q, Beta) + 1);
                z += e[r, c];
            }
        }
        for (var r = 0; r < 9; r++)
        {
            for (var c = 0; c < 9; c++)
            {
                Assert.Equal(e[r, c] / z, a[r, c], 6);
            }
        }
        // Heavier tails for β < 1 than for β > 1 at the same σ.
        using var heavy = BlurKernels.GeneralizedGaussian(21, 2, 2, 0, 0.5, true);
        using var light = BlurKernels.GeneralizedGaussian(21, 2, 2, 0, 4, true);
        Assert.True(heavy[0, 10].item<float>() > light[0, 10].item<float>());
    }

    [Fact]
    public void Bessel_j1_matches_its_power_series_and_published_values()
    {
        static double Series(double x)
        {
            double term = x / 2, sum = term;
            for (var m = 1; m < 80; m++)
            {
                term *= -(x * x / 4) / (m * (m + 1.0));
                sum += term;
            }
            return sum;
        }
        foreach (var x in new[] { 0.0, 0.3, 1.0, 2.5, 3.8317, 7.0, 12.0, 19.0 })
        {
            Assert.Equal(Series(x), Bessel.J1(x), 9);
        }
        Assert.Equal(0.44005058574493355, Bessel.J1(1), 12);
        Assert.Equal(0.04347274616886144, Bessel.J1(10), 12);
        Assert.Equal(-Bessel.J1(4.2), Bessel.J1(-4.2), 12);
        // Large arguments (big sinc kernels): Hankel's asymptotic expansion, P·cos ω − Q·sin ω with ω = x − 3π/4,
        // P ≈ 1 + 15/(128x²), Q ≈ 3/(8x); the next terms are below 1e-9 at x = 300.
        const double X = 300;
        var omega = X - 3 * Math.PI / 4;
        var hankel = Math.Sqrt(2 / (Math.PI * X)) * ((1 + 15 / (128 * X * X)) * Math.Cos(omega) - 3 / (8 * X) * Math.Sin(omega));
        Assert.True(Math.Abs(hankel - Bessel.J1(X)) < 1e-8, $"{hankel} vs {Bessel.J1(X)}");
    }

    [Fact]
    public void Sinc_kernel_is_the_normalised_circular_lowpass()
    {
        const int Size = 11;
        const double Cutoff = 1.2;
        using var k = BlurKernels.CircularLowpass(Size, Cutoff);
        var a = ToArray(k);
        Assert.Equal(1.0, Sum(a), 5);
        var raw = new double[Size, Size];
        var z = 0.0;
        for (var r = 0; r < Size; r++)
        {
            for (var c = 0; c < Size; c++)
            {
                var d = Math.Sqrt((r - 5) * (r - 5) + (c - 5) * (c - 5));
                // Series J1 computed here, independently of the library's quadrature.
                double term = Cutoff * d / 2, j1 = term;
                for (var m = 1; m < 60; m++)
                {
                    term *= -(Cutoff * d * Cutoff * d / 4) / (m * (m + 1.0));
                    j1 += term;
                }
                raw[r, c] = d == 0 ? Cutoff * Cutoff / (4 * Math.PI) : Cutoff * j1 / (2 * Math.PI * d);
                z += raw[r, c];
            }
        }
        for (var r = 0; r < Size; r++)
        {
            for (var c = 0; c < Size; c++)
            {
                Assert.Equal(raw[r, c] / z, a[r, c], 6);
                Assert.Equal(a[r, c], a[c, r], 7); // circular: symmetric under transposition
            }
        }
        Assert.True(a.Cast<double>().Min() < 0); // the ringing lobes
    }

    [Fact]
    public void Motion_line_spreads_uniformly_over_its_length()
    {
        using var k = BlurKernels.MotionLine(9, 5, 0);
        var a = ToArray(k);
        // Samples uniform on [−2, 2] splatted bilinearly: end pixels get half the mass of inner ones.
        double[] row = [0, 0, 0.125, 0.25, 0.25, 0.25, 0.125, 0, 0];
        for (var c = 0; c < 9; c++)
        {
            Assert.Equal(row[c], a[4, c], 3);
        }
        Assert.Equal(1.0, Sum(a), 5);
        using var vertical = BlurKernels.MotionLine(9, 5, 90);
        Assert.True(vertical.allclose(k.t(), rtol: 0, atol: 1e-3));
        using var one = BlurKernels.MotionLine(3, 1, 33);
        Assert.True(one.allclose(BlurKernels.Pulse(3), rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Random_trajectory_is_seeded_normalised_and_centred()
    {
        using var g1 = new Generator(11, torch.CPU);
        using var g2 = new Generator(11, torch.CPU);
        using var g3 = new Generator(12, torch.CPU);
        using var a = BlurKernels.RandomTrajectory(21, 15, g1);
        using var b = BlurKernels.RandomTrajectory(21, 15, g2);
        using var c = BlurKernels.RandomTrajectory(21, 15, g3);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.allclose(c));
        Assert.Equal(1.0, a.sum().item<float>(), 4);
        Assert.True(a.min().item<float>() >= 0);
        // Centred on its mean: the centre of mass is the middle pixel (to splatting precision).
        using var coords = torch.arange(21, dtype: ScalarType.Float32) - 10;
        Assert.True(Math.Abs(a.sum(0).mul(coords).sum().item<float>()) < 0.05);
        Assert.True(Math.Abs(a.sum(1).mul(coords).sum().item<float>()) < 0.05);
    }

    [Fact]
    public void Bad_kernel_parameters_are_refused()
    {
        Assert.Contains("odd", Assert.Throws<DegradationException>(() => BlurKernels.BivariateGaussian(4, 1, 1, 0, true)).Message);
        Assert.Contains("sigmaX", Assert.Throws<DegradationException>(() => BlurKernels.BivariateGaussian(5, 0, 1, 0, true)).Message);
        Assert.Contains("sigmaY", Assert.Throws<DegradationException>(() => BlurKernels.BivariateGaussian(5, 1, -1, 0, false)).Message);
        Assert.Contains("cutoff", Assert.Throws<DegradationException>(() => BlurKernels.CircularLowpass(5, 4)).Message);
        Assert.Contains("does not fit", Assert.Throws<DegradationException>(() => BlurKernels.MotionLine(5, 9, 0)).Message);
    }
}
