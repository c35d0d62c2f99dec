using LatentIndigo.Degradations;
using LatentIndigo.Evaluation;
using LatentIndigo.Imaging;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Evaluation;

public class ImageEvaluatorTests
{
    private static Tensor GroundTruth()
    {
        using var photo = ImageIO.Load(TestData.Cc0("chelsea.png"));
        return ImageEvaluator.ModCrop(photo.narrow(2, 40, 66).narrow(3, 150, 70), 4);
    }

    [Fact]
    public void Mod_crop_keeps_the_top_left_multiple_of_the_scale()
    {
        using var truth = GroundTruth();
        Assert.Equal(new long[] { 1, 3, 64, 68 }, truth.shape);
    }

    [Fact]
    public void The_ground_truth_scores_perfectly_and_is_consistent_with_its_own_random_degradation()
    {
        using var truth = GroundTruth();
        var spec = DegradationSpec.Parse("gauss:sigma=1.2>bicubic:x4>noise:sigma=5");
        using var lq = ImageEvaluator.Degrade(truth, spec, seed: 7);
        var perfect = ImageEvaluator.Score(truth, truth, lq, 4, spec, seed: 7);
        Assert.Equal(double.PositiveInfinity, perfect.PsnrY);
        Assert.Equal(1.0, perfect.SsimY, 12);
        Assert.Equal(double.PositiveInfinity, perfect.LrPsnr); // same seed: the same noise is drawn again
        Assert.Null(perfect.Perceptual);

        var otherSeed = ImageEvaluator.Score(truth, truth, lq, 4, spec, seed: 8);
        Assert.True(otherSeed.LrPsnr < 50, $"{otherSeed.LrPsnr}");
        Assert.Null(ImageEvaluator.Score(truth, truth, lq, 4).LrPsnr);
    }

    [Fact]
    public void Bicubic_upscaling_scores_below_the_ground_truth_and_its_lr_consistency_is_finite()
    {
        using var truth = GroundTruth();
        var spec = DegradationSpec.Parse("bicubic:x4");
        using var lq = ImageEvaluator.Degrade(truth, spec, seed: 1);
        using var bicubic = LatentIndigo.Pipeline.BicubicUpscaleEstimator.Instance.Estimate(lq, 4);
        var scores = ImageEvaluator.Score(bicubic, truth, lq, 4, spec, seed: 1);
        Assert.InRange(scores.PsnrY, 20, 45);
        Assert.InRange(scores.SsimY, 0.3, 0.99);
        Assert.InRange(scores.LrPsnr!.Value, 25, 80);
        // Scores are of the 8-bit image, as written: a sub-quantum change does not move them.
        using var quantised = ImageQuality.QuantizeTo8Bit(bicubic);
        Assert.Equal(scores, ImageEvaluator.Score(quantised + 0.4f / 255f, truth, lq, 4, spec, seed: 1));
        Assert.NotEqual(scores.PsnrY, ImageEvaluator.Score(quantised + 1f / 255f, truth, lq, 4, spec, seed: 1).PsnrY);
    }

    [Fact]
    public void The_grid_shows_each_panel_and_its_zoomed_centre()
    {
        using var truth = GroundTruth();
        using var lq = torch.nn.functional.avg_pool2d(truth, 4);
        using var grid = ComparisonGrid.Compose([lq, truth]);
        long h = truth.shape[2], w = truth.shape[3];
        Assert.Equal(new long[] { 1, 3, 2 * h + 8, 2 * w + 8 }, grid.shape);
        // Top row, right panel: the ground truth itself away from the red frame (top-left corner).
        Assert.True(grid.narrow(2, 0, 4).narrow(3, w + 8, 4).allclose(truth.narrow(2, 0, 4).narrow(3, 0, 4)));
        // Bottom row, right panel: its centre third enlarged ×3 by nearest neighbour.
        long ch = h / 3, cw = w / 3, top = (h - ch) / 2, left = (w - cw) / 2;
        var expected = torch.nn.functional.interpolate(truth.narrow(2, top, ch).narrow(3, left, cw), size: new[] { h, w }, mode: InterpolationMode.Nearest);
        Assert.True(grid.narrow(2, h + 8, h).narrow(3, w + 8, w).allclose(expected));
        // The gap between panels is white.
        Assert.Equal(1f, grid.narrow(3, w, 8).min().item<float>());
    }
}
