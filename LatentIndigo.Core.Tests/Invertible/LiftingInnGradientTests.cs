using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Invertible.InnTestHelpers;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

/// <summary>Autograd gradients against central finite differences, all in float64.</summary>
public class LiftingInnGradientTests
{
    private static readonly LiftingInnOptions Tiny = new() { Levels = 2, ResBlocks = 1, Width = 4, ConditionSize = 3 };

    /// <summary>A guidance-style loss: ‖y − coarse(x)‖ + ‖Inverse(y, details(x)) − x‖², through forward and inverse.</summary>
    private static Tensor GuidanceLoss(LiftingInn inn, Tensor x, Tensor y, Tensor cond)
    {
        using var dec = inn.Forward(x, cond);
        var inv = inn.Inverse(y, dec.Details, cond);
        return (y - dec.Coarse).norm() + (inv - x).pow(2).sum();
    }

    [Fact]
    public void Input_gradient_matches_finite_differences()
    {
        using var scope = NewDisposeScope();
        using var inn = RandomInn(Tiny, seed: 31);
        inn.to(float64);
        using var g = new Generator(8);
        var x = rand(1, 3, 8, 8, dtype: float64, generator: g).requires_grad_(true);
        var y = rand(1, 3, 2, 2, dtype: float64, generator: g);
        var cond = randn(1, 3, dtype: float64, generator: g);

        var loss = GuidanceLoss(inn, x, y, cond);
        var grad = torch.autograd.grad([loss], [x])[0];

        const double eps = 1e-6;
        var xd = x.detach().clone();
        foreach (var idx in new long[] { 0, 5, 17, 63, 64, 100, 150, 191 })
        {
            var flat = xd.view(-1);
            double orig = flat[idx].ToDouble();
            flat[idx] = tensor(orig + eps, float64);
            double plus = GuidanceLoss(inn, xd, y, cond).ToDouble();
            flat[idx] = tensor(orig - eps, float64);
            double minus = GuidanceLoss(inn, xd, y, cond).ToDouble();
            flat[idx] = tensor(orig, float64);
            double numeric = (plus - minus) / (2 * eps);
            double analytic = grad.view(-1)[idx].ToDouble();
            Assert.True(Math.Abs(numeric - analytic) <= 1e-6 * Math.Max(1, Math.Abs(numeric)),
                $"x[{idx}]: autograd {analytic}, finite difference {numeric}");
        }
    }

    [Fact]
    public void Parameter_gradients_match_finite_differences()
    {
        using var scope = NewDisposeScope();
        using var inn = RandomInn(Tiny, seed: 32);
        inn.to(float64);
        using var g = new Generator(9);
        var x = rand(2, 3, 8, 8, dtype: float64, generator: g);
        var y = rand(2, 3, 2, 2, dtype: float64, generator: g);
        var cond = randn(2, 3, dtype: float64, generator: g);

        var named = inn.named_parameters().ToList();
        inn.zero_grad();
        GuidanceLoss(inn, x, y, cond).backward();

        const double eps = 1e-6;
        int checkedCount = 0;
        foreach (var (name, p) in named.Where((_, i) => i % 3 == 0))
        {
            var grad = p.grad!.view(-1);
            var flat = p.detach().view(-1);
            long idx = flat.numel() / 2;
            double orig;
            using (no_grad())
            {
                orig = flat[idx].ToDouble();
                flat[idx] = tensor(orig + eps, float64);
            }
            double plus = GuidanceLoss(inn, x, y, cond).ToDouble();
            using (no_grad())
            {
                flat[idx] = tensor(orig - eps, float64);
            }
            double minus = GuidanceLoss(inn, x, y, cond).ToDouble();
            using (no_grad())
            {
                flat[idx] = tensor(orig, float64);
            }
            double numeric = (plus - minus) / (2 * eps);
            double analytic = grad[idx].ToDouble();
            Assert.True(Math.Abs(numeric - analytic) <= 1e-6 * Math.Max(1, Math.Abs(numeric)),
                $"{name}[{idx}]: autograd {analytic}, finite difference {numeric}");
            checkedCount++;
        }
        Assert.True(checkedCount >= 8);
    }
}
