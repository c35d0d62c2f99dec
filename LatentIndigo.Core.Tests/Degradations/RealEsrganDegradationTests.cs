using LatentIndigo.Degradations;
using LatentIndigo.Imaging;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Degradations;

public class RealEsrganDegradationTests
{
    private static Tensor Crop(int size) => ImageIO.Load(TestData.Cc0("astronaut.png")).narrow(2, 40, size).narrow(3, 150, size).contiguous();

    [Fact]
    public void Seeded_runs_are_identical_and_output_is_8_bit_at_a_quarter_size()
    {
        using var x = Crop(160);
        var model = new RealEsrganDegradation(4);
        using var g1 = new Generator(123, torch.CPU);
        using var g2 = new Generator(123, torch.CPU);
        var t1 = new DegradationTrace(1);
        var t2 = new DegradationTrace(1);
        using var a = model.Apply(x, g1, t1);
        using var b = model.Apply(x, g2, t2);
        Assert.Equal(new long[] { 1, 3, 40, 40 }, a.shape);
        Assert.True(a.eq(b).all().item<bool>());
        using var levels = a * 255;
        Assert.True(levels.sub(levels.round()).abs().max().item<float>() < 1e-4f);
        Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() <= 1);
        Assert.Equal(t1.StepsOf(0).Select(s => s.Operator), t2.StepsOf(0).Select(s => s.Operator));
    }

    [Fact]
    public void Draws_follow_the_published_ranges_and_probabilities()
    {
        // Many small draws, no image work: check what the trace records over 40 images.
        using var x = Crop(80);
        using var batch = x.expand(40, 3, 80, 80).contiguous();
        var model = new RealEsrganDegradation(1, unsharpMask: false);
        var trace = new DegradationTrace(40);
        using var g = new Generator(7, torch.CPU);
        using var y = model.Apply(batch, g, trace);
        Assert.Equal(batch.shape, y.shape);
        int down = 0, gaussianNoise = 0, finalSinc = 0;
        for (var i = 0; i < 40; i++)
        {
            var steps = trace.StepsOf(i).ToDictionary(s => s.Operator, s => s.Parameters);
            Assert.Equal(["blur1", "resize1", "noise1", "jpeg1", "blur2", "resize2", "noise2", "final", "final.sinc", "final.jpeg"],
                trace.StepsOf(i).Select(s => s.Operator));
            var blur1 = steps["blur1"];
            Assert.Contains((int)blur1["size"], new[] { 7, 9, 11, 13, 15, 17, 19, 21 });
            if ((string)blur1["type"] != "sinc")
            {
                Assert.InRange((double)blur1["sigmaX"], 0.2, 3);
            }
            var r1 = steps["resize1"];
            Assert.InRange((double)r1["scale"], 0.15, 1.5);
            Assert.Contains((string)r1["mode"], new[] { "area", "bilinear", "bicubic" });
            down += (string)r1["direction"] == "down" ? 1 : 0;
            Assert.InRange((double)steps["resize2"]["scale"], 0.3, 1.2);
            var n1 = steps["noise1"];
            if ((string)n1["type"] == "gaussian")
            {
                gaussianNoise++;
                Assert.InRange((double)n1["sigma"], 1, 30);
            }
            else
            {
                Assert.InRange((double)n1["scale"], 0.05, 3);
            }
            Assert.InRange((int)steps["jpeg1"]["q"], 30, 95);
            Assert.InRange((int)steps["final.jpeg"]["q"], 30, 95);
            finalSinc += (string)steps["final.sinc"]["type"] == "sinc" ? 1 : 0;
        }
        // Binomial(40, p) bounds that hold with probability > 0.999: down p = 0.7, Gaussian p = 0.5, sinc p = 0.8.
        Assert.InRange(down, 18, 38);
        Assert.InRange(gaussianNoise, 8, 32);
        Assert.InRange(finalSinc, 22, 40);
    }

    [Fact]
    public void Unsharp_mask_sharpens_edges_only()
    {
        using var flat = torch.full([1, 3, 80, 80], 0.3f);
        using var same = RealEsrganDegradation.Usm(flat);
        Assert.True(same.allclose(flat, rtol: 0, atol: 1e-6));
        using var x = Crop(96);
        using var sharp = RealEsrganDegradation.Usm(x);
        // Sharpening increases local contrast: the Laplacian energy rises.
        static float Energy(Tensor t) => (t[.., .., 1.., ..] - t[.., .., ..^1, ..]).pow(2).mean().item<float>();
        Assert.True(Energy(sharp) > Energy(x));
    }

    [Fact]
    public void Refuses_images_too_small_for_its_kernels()
    {
        using var x = torch.rand([1, 3, 120, 120]);
        var ex = Assert.Throws<DegradationException>(() => new RealEsrganDegradation(4).Apply(x));
        Assert.Contains("at least 160x160", ex.Message);
    }
}
