using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Invertible.InnTestHelpers;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

public class InnRefinerAndRestorerTests
{
    [Fact]
    public void Refinement_lowers_the_coarse_mse_and_the_weights_come_back_afterwards()
    {
        using var scope = NewDisposeScope();
        using var inn = RandomInn(new LiftingInnOptions { ResBlocks = 1, Width = 8 }, seed: 61);
        var before = inn.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using var g = new Generator(62);
        var xHat = rand(1, 3, 32, 32, generator: g);
        var y = nn.functional.avg_pool2d(xHat, 4); // an "unknown" degradation the random INN does not imitate

        double Mse()
        {
            using var noGrad = no_grad();
            using var d = inn.Forward(xHat, null);
            return nn.functional.mse_loss(d.Coarse, y).ToDouble();
        }

        double initial = Mse();
        using var refiner = new InnRefiner(inn, learningRate: 1e-3);
        using (refiner.BeginImage())
        {
            var xGrad = xHat.clone().requires_grad_(true);
            double first = refiner.Step(y, xGrad);
            Assert.Equal(initial, first, 6);
            for (int i = 0; i < 9; i++)
            {
                refiner.Step(y, xGrad);
            }
            Assert.Null(xGrad.grad); // the estimate is detached: no gradient reaches it
            Assert.Equal(10, refiner.StepsThisImage);
            Assert.True(Mse() < 0.9 * initial, $"MSE {Mse()} vs {initial}");
        }
        Assert.False(refiner.InImage);
        foreach (var (name, p) in inn.named_parameters())
        {
            Assert.Equal(0, MaxAbs(p, before[name]));
        }
        Assert.Equal(initial, Mse(), 7);
        Assert.Throws<InvalidOperationException>(() => refiner.Step(y, xHat));
    }

    [Fact]
    public void Default_refinement_learning_rate_is_the_indigo_plus_value()
    {
        using var inn = new LiftingInn(LiftingInnOptions.Pixel());
        using var refiner = new InnRefiner(inn);
        Assert.Equal(5e-5, refiner.LearningRate);
        Assert.Throws<ArgumentOutOfRangeException>(() => new InnRefiner(inn, learningRate: 0));
    }

    [Theory]
    [InlineData(3, 0.5, 2, 12, 20)]
    [InlineData(4, 0.0, 2, 8, 8)]
    [InlineData(3, 0.5, 1, 10, 6)]
    public void Exact_projection_degrades_back_to_y_and_keeps_the_estimate_details(int channels, double offset, int levels, int h, int w)
    {
        // The exact projection g⁻¹(y, d(x)) (docs/algorithm.md §5: kept as the reference the back-projection is compared
        // with, not used by the pipeline): its coarse band is y, its details those of the estimate.
        using var scope = NewDisposeScope();
        using var inn = RandomInn(new LiftingInnOptions { Channels = channels, Offset = offset, Levels = levels, ResBlocks = 1 }, seed: 63, scale: 0.05);
        using var g = new Generator(64);
        var y = rand(1, channels, h, w, generator: g) * 0.5 + 0.25;
        var estimate = LatentIndigo.Degradations.MatlabBicubic.Resize(y, 1 << levels);
        var projected = InnTiling.Default.Project(inn, y, estimate);
        Assert.Equal(new long[] { 1, channels, h << levels, w << levels }, projected.shape);

        using var again = inn.Forward(projected, null);
        Assert.True(MaxAbs(again.Coarse, y) <= 1e-5, $"coarse of the result differs from y by {MaxAbs(again.Coarse, y)}");
        using var fromEstimate = inn.Forward(estimate, null);
        for (int l = 0; l < levels; l++)
        {
            for (int k = 0; k < 3; k++)
            {
                Assert.True(MaxAbs(again.Details[l][k], fromEstimate.Details[l][k]) <= 1e-5);
            }
        }
    }
}
