using LatentIndigo.Degradations;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Degradations;

public class NoiseTests
{
    [Fact]
    public void Gaussian_noise_has_the_requested_sigma_in_255_units()
    {
        using var x = torch.full([2, 3, 128, 128], 0.5f);
        using var g = new Generator(42, torch.CPU);
        using var y = new GaussianNoise(10).Apply(x, g);
        using var noise = (y - x) * 255;
        // 98,304 samples: the sample std of N(0, 10) is within ±0.1 with overwhelming probability (SE ≈ 0.023).
        Assert.InRange(noise.std().item<float>(), 9.9f, 10.1f);
        Assert.InRange(noise.mean().item<float>(), -0.1f, 0.1f);
        // Independent channels: correlation between R and G noise is near 0.
        var corr = (noise[.., 0] * noise[.., 1]).mean().item<float>() / 100f;
        Assert.InRange(corr, -0.03f, 0.03f);
    }

    [Fact]
    public void Gray_noise_is_the_same_in_every_channel_and_output_is_clamped()
    {
        using var x = torch.full([1, 3, 64, 64], 0.5f);
        using var g = new Generator(1, torch.CPU);
        using var y = new GaussianNoise(20, gray: true).Apply(x, g);
        Assert.True(y[0, 0].allclose(y[0, 1]) && y[0, 1].allclose(y[0, 2]));
        using var bright = torch.full([1, 3, 32, 32], 0.99f);
        using var yb = new GaussianNoise(50).Apply(bright, g);
        Assert.True(yb.max().item<float>() <= 1f && yb.min().item<float>() >= 0f);
        Assert.Equal(1f, yb.max().item<float>()); // some samples were clipped at 1
    }

    [Fact]
    public void Same_seed_same_noise_different_seed_different_noise()
    {
        using var x = torch.full([1, 3, 16, 16], 0.5f);
        using var g1 = new Generator(9, torch.CPU);
        using var g2 = new Generator(9, torch.CPU);
        using var g3 = new Generator(10, torch.CPU);
        var model = new GaussianNoise(5);
        using var a = model.Apply(x, g1);
        using var b = model.Apply(x, g2);
        using var c = model.Apply(x, g3);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(c).all().item<bool>());
    }

    [Fact]
    public void Poisson_noise_variance_follows_the_real_esrgan_definition()
    {
        // A constant 100/255 image has one distinct value, so v = 2^ceil(log2 1) = 1 and out = Poisson(x)/1:
        // noise = Poisson(λ)/v − x with λ = x·v, variance λ/v² = x, times scale².
        const float Level = 100f / 255f;
        using var x = torch.full([1, 3, 128, 128], Level);
        using var g = new Generator(3, torch.CPU);
        using var y = new PoissonNoise(0.2).Apply(x, g);
        using var noise = y - x;
        var expectedStd = 0.2 * Math.Sqrt(Level);
        Assert.InRange(noise.std().item<float>(), expectedStd * 0.97, expectedStd * 1.03);
        Assert.InRange(noise.mean().item<float>(), -0.01, 0.01);

        // A ramp of 256 distinct values: v = 256, noise variance x/256 per pixel, times scale².
        using var ramp = (torch.arange(256, dtype: ScalarType.Float32) / 255).view(1, 1, 1, 256).expand(1, 3, 128, 256).contiguous();
        using var yr = new PoissonNoise(1).Apply(ramp, g);
        using var nr = (yr - ramp).narrow(3, 64, 128); // away from the clamp at 0 and 1
        var meanLevel = ramp.narrow(3, 64, 128).mean().item<float>();
        var expected = Math.Sqrt(meanLevel / 256);
        Assert.InRange(nr.std().item<float>(), expected * 0.95, expected * 1.05);
    }

    [Fact]
    public void Gray_poisson_noise_is_shared_by_channels()
    {
        using var g = new Generator(4, torch.CPU);
        using var x = torch.rand([1, 3, 32, 32], generator: g) * 0.5f + 0.25f;
        using var y = new PoissonNoise(1, gray: true).Apply(x, g);
        using var n = y - x;
        Assert.True(n[0, 0].allclose(n[0, 1], rtol: 0, atol: 1e-6) && n[0, 0].allclose(n[0, 2], rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Out_of_range_parameters_are_refused()
    {
        Assert.Throws<DegradationException>(() => new GaussianNoise(-1));
        Assert.Throws<DegradationException>(() => new GaussianNoise(300));
        Assert.Throws<DegradationException>(() => new PoissonNoise(double.NaN));
    }
}
