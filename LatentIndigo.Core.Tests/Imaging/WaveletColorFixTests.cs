using LatentIndigo.Imaging;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Imaging;

public class WaveletColorFixTests
{
    // Plain-loop float64 reference of the five-level dilated binomial blur with replicate (clamped) borders.
    private static double[,] ReferenceLow(double[,] image)
    {
        int h = image.GetLength(0), w = image.GetLength(1);
        double[] k = { 1, 2, 1 };
        var current = (double[,])image.Clone();
        for (int level = 0; level < 5; level++)
        {
            int r = 1 << level;
            var next = new double[h, w];
            for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double sum = 0;
                for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                {
                    int yy = Math.Clamp(y + dy * r, 0, h - 1), xx = Math.Clamp(x + dx * r, 0, w - 1);
                    sum += k[dy + 1] * k[dx + 1] / 16.0 * current[yy, xx];
                }
                next[y, x] = sum;
            }
            current = next;
        }
        return current;
    }

    [Fact]
    public void Matches_a_plain_loop_reference()
    {
        var generator = new torch.Generator(7);
        using var content = torch.rand(new long[] { 1, 3, 13, 11 }, generator: generator, dtype: torch.float64);
        using var reference = torch.rand(new long[] { 1, 3, 13, 11 }, generator: generator, dtype: torch.float64);
        using var fixedImage = WaveletColorFix.Apply(content, reference);
        for (int c = 0; c < 3; c++)
        {
            var contentPlane = ToArray(content[0, c]);
            var referencePlane = ToArray(reference[0, c]);
            var lowContent = ReferenceLow(contentPlane);
            var lowReference = ReferenceLow(referencePlane);
            for (int y = 0; y < 13; y++)
            for (int x = 0; x < 11; x++)
            {
                double expected = contentPlane[y, x] - lowContent[y, x] + lowReference[y, x];
                Assert.Equal(expected, fixedImage[0, c, y, x].item<double>(), 10);
            }
        }
    }

    [Fact]
    public void Keeps_content_detail_and_takes_reference_colour()
    {
        // A constant reference has no detail: the result is content's detail plus the reference's constant colour.
        var generator = new torch.Generator(3);
        using var content = torch.rand(new long[] { 1, 3, 32, 32 }, generator: generator);
        using var reference = torch.full(new long[] { 1, 3, 32, 32 }, 0.25f);
        using var result = WaveletColorFix.Apply(content, reference);
        var (high, low) = WaveletColorFix.Decompose(content);
        Assert.True(torch.allclose(high + low, content, rtol: 0, atol: 1e-6));
        Assert.True(torch.allclose(result, high + 0.25f, rtol: 0, atol: 1e-6));
    }

    private static double[,] ToArray(torch.Tensor plane)
    {
        int h = (int)plane.shape[0], w = (int)plane.shape[1];
        var data = plane.contiguous().data<double>().ToArray();
        var result = new double[h, w];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            result[y, x] = data[y * w + x];
        }
        return result;
    }
}
