using LatentIndigo.Pipeline;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Pipeline;

public class LatentTilingTests
{
    [Theory]
    [InlineData(256, 256, 64, 32)]
    [InlineData(100, 70, 64, 32)]
    [InlineData(40, 300, 64, 48)]
    [InlineData(64, 64, 64, 32)]
    public void Windows_cover_every_latent_pixel_and_stay_inside(int height, int width, int tile, int stride)
    {
        var windows = LatentTiling.Windows(height, width, tile, stride);
        var covered = new int[height, width];
        foreach (var w in windows)
        {
            Assert.InRange(w.Top, 0, height - w.Height);
            Assert.InRange(w.Left, 0, width - w.Width);
            Assert.Equal(Math.Min(tile, height), w.Height);
            Assert.Equal(Math.Min(tile, width), w.Width);
            for (int y = w.Top; y < w.Top + w.Height; y++)
            for (int x = w.Left; x < w.Left + w.Width; x++)
            {
                covered[y, x]++;
            }
        }
        foreach (int count in covered)
        {
            Assert.True(count > 0);
        }
        // Count per axis: ceil((L - T) / S) + 1 starts (one flush with the end when the stride does not land there).
        int Expected(int length)
        {
            int t = Math.Min(tile, length);
            return (length - t + stride - 1) / stride + 1;
        }
        Assert.Equal(Expected(height) * Expected(width), windows.Count);
    }

    [Fact]
    public void Single_tile_when_the_latent_fits()
    {
        var windows = LatentTiling.Windows(64, 48, 64, 32);
        Assert.Single(windows);
        Assert.Equal(new LatentTile(0, 0, 64, 48), windows[0]);
    }

    [Fact]
    public void Gaussian_weights_follow_the_closed_form()
    {
        using var weights = LatentTiling.GaussianWeights(8, 6, torch.float64);
        Assert.Equal(new long[] { 8, 6 }, weights.shape);
        double Profile(int i, int n)
        {
            double d = (i - (n - 1) / 2.0) / n;
            return Math.Exp(-d * d / 0.02) / Math.Sqrt(0.02 * Math.PI);
        }
        for (int y = 0; y < 8; y++)
        for (int x = 0; x < 6; x++)
        {
            Assert.Equal(Profile(y, 8) * Profile(x, 6), weights[y, x].item<double>(), 12);
        }
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LatentTiling.Windows(0, 10, 4, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatentTiling.Windows(10, 10, 4, 5));
    }
}
