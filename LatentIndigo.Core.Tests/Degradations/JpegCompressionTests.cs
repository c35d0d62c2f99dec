using LatentIndigo.Degradations;
using LatentIndigo.Imaging;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Degradations;

public class JpegCompressionTests
{
    private static Tensor Astronaut() => ImageIO.Load(TestData.Cc0("astronaut.png")).narrow(2, 128, 128).narrow(3, 192, 128).contiguous();

    [Fact]
    public void Size_and_error_fall_as_quality_rises()
    {
        using var x = Astronaut();
        var sizes = new List<int>();
        var errors = new List<double>();
        foreach (var q in new[] { 10, 30, 50, 70, 90 })
        {
            var trace = new DegradationTrace(1);
            using var y = new JpegCompression(q).Apply(x, null, trace);
            Assert.Equal(x.shape, y.shape);
            sizes.Add((int)trace.StepsOf(0)[0].Parameters["bytes"]);
            errors.Add((y - x).pow(2).mean().item<float>());
        }
        for (var i = 1; i < sizes.Count; i++)
        {
            Assert.True(sizes[i] > sizes[i - 1], $"bytes: {string.Join(", ", sizes)}");
            Assert.True(errors[i] < errors[i - 1], $"mse: {string.Join(", ", errors)}");
        }
        // Quality 10 is visibly lossy, quality 90 close (PSNR > 30 dB).
        Assert.True(10 * Math.Log10(1 / errors[^1]) > 30);
        Assert.True(errors[0] > 4 * errors[^1]);
    }

    [Fact]
    public void Compresses_each_image_of_a_batch_separately()
    {
        using var a = Astronaut();
        using var b = a.flip(3);
        using var batch = torch.cat([a, b], 0);
        var model = new JpegCompression(40);
        using var together = model.Apply(batch);
        using var alone = model.Apply(b);
        Assert.True(together[1].allclose(alone[0]));
    }

    [Fact]
    public void Refuses_bad_quality_and_non_rgb()
    {
        Assert.Throws<DegradationException>(() => new JpegCompression(0));
        Assert.Throws<DegradationException>(() => new JpegCompression(101));
        using var gray = torch.rand([1, 1, 16, 16]);
        Assert.Contains("3 channels", Assert.Throws<DegradationException>(() => new JpegCompression(50).Apply(gray)).Message);
    }
}
