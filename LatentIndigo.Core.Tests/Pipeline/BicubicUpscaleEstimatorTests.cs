using LatentIndigo.Pipeline;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Pipeline;

public class BicubicUpscaleEstimatorTests
{
    [Fact]
    public void Reproduces_a_linear_ramp_away_from_the_borders()
    {
        // Keys' cubic convolution reproduces linear functions exactly. Output pixel j of a ×4 upscale samples input
        // coordinate (j + 0.5)/4 − 0.5 (pixel centres), so a ramp v(i) = 0.1 + 0.02·i maps to 0.1 + 0.02·((j + 0.5)/4 − 0.5).
        using var ramp = (torch.arange(16, dtype: torch.float32) * 0.02f + 0.1f).reshape(1, 1, 1, 16).expand(1, 3, 8, 16).contiguous();
        using var up = BicubicUpscaleEstimator.Instance.Estimate(ramp, 4);
        Assert.Equal(new long[] { 1, 3, 32, 64 }, up.shape);
        for (int j = 8; j < 56; j++)
        {
            double expected = 0.1 + 0.02 * ((j + 0.5) / 4 - 0.5);
            Assert.Equal(expected, up[0, 1, 16, j].item<float>(), 5);
        }
    }

    [Fact]
    public void Clamps_to_the_unit_range_and_copies_at_scale_one()
    {
        // A sharp 0/1 edge overshoots with a cubic kernel; the estimate is clamped.
        using var edge = torch.cat(new[] { torch.zeros(1, 3, 8, 4), torch.ones(1, 3, 8, 4) }, 3);
        using var up = BicubicUpscaleEstimator.Instance.Estimate(edge, 2);
        Assert.True(up.min().item<float>() >= 0f && up.max().item<float>() <= 1f);
        using var same = BicubicUpscaleEstimator.Instance.Estimate(edge, 1);
        Assert.True(same.equal(edge).all().item<bool>());
        Assert.NotEqual(edge.Handle, same.Handle);
    }
}
