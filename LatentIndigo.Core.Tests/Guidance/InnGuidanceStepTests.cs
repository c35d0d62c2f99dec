using LatentIndigo.Guidance;
using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Guidance;

public class InnGuidanceStepTests
{
    [Theory]
    [InlineData(InnEngine.OnnxRuntime)]
    [InlineData(InnEngine.TorchSharp)]
    public void Lazy_wavelet_gradient_matches_the_closed_form(InnEngine engine)
    {
        // With zero predictors/updaters the INN is the polyphase split: the coarse band is x[::4, ::4] (J = 2, offset
        // cancels), x_inv is x with those pixels replaced by y, so L = w0‖y − c‖ + w1‖y − c‖² and
        // ∇L = −(w0/‖y − c‖ + 2w1)(y − c) on the coarse positions, 0 elsewhere.
        using var inn = new LiftingInn(new LiftingInnOptions { Channels = 3, Levels = 2 });
        inn.ResetToLazyWavelet();
        inn.Engine = engine;
        var generator = new Generator(11);
        using var x = torch.rand(new long[] { 1, 3, 16, 12 }, generator: generator);
        using var y = torch.rand(new long[] { 1, 3, 4, 3 }, generator: generator);
        const double w0 = 0.7, w1 = 0.3, s = 0.25;
        using var result = new InnGuidanceStep(inn, w0, w1).Apply(x, y, null, s);

        var coarse = x.index(TensorIndex.Ellipsis, TensorIndex.Slice(0, null, 4), TensorIndex.Slice(0, null, 4));
        var residual = y - coarse;
        double norm = residual.pow(2).sum().sqrt().item<float>();
        var expected = x.clone();
        var update = residual * (s * (w0 / norm + 2 * w1));
        expected.index_put_(coarse + update, TensorIndex.Ellipsis, TensorIndex.Slice(0, null, 4), TensorIndex.Slice(0, null, 4));

        Assert.Equal(norm, result.CoarseDistance, 4);
        Assert.Equal(norm * norm, result.Consistency, 4);
        Assert.True(torch.allclose(result.Guided, expected, rtol: 0, atol: 1e-5),
            $"max error {(result.Guided - expected).abs().max().item<float>()}");
        Assert.False(result.Guided.requires_grad);
    }

    /// <summary>A one-level, 4-channel float64 INN with small random weights drawn from <paramref name="generator"/>.</summary>
    private static LiftingInn SmallFloat64Inn(Generator generator)
    {
        var inn = new LiftingInn(new LiftingInnOptions { Channels = 4, Offset = 0, Levels = 1 });
        inn.to(ScalarType.Float64);
        using (torch.no_grad())
        {
            foreach (var p in inn.parameters())
            {
                p.copy_(torch.randn(p.shape, generator: generator, dtype: ScalarType.Float64) * 0.05);
            }
        }
        return inn;
    }

    [Fact]
    public void Gradient_of_a_trained_like_inn_matches_finite_differences()
    {
        var generator = new Generator(5);
        using var inn = SmallFloat64Inn(generator);
        using var x = torch.randn(new long[] { 1, 4, 4, 4 }, generator: generator, dtype: ScalarType.Float64);
        using var y = torch.randn(new long[] { 1, 4, 2, 2 }, generator: generator, dtype: ScalarType.Float64);
        const double w0 = 1.0, w1 = 0.5;
        var step = new InnGuidanceStep(inn, w0, w1);

        double Loss(Tensor input)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            using var d = inn.Forward(input, null);
            var inverse = inn.Inverse(y, d.Details, null);
            return w0 * (y - d.Coarse).pow(2).sum().sqrt().item<double>() + w1 * (inverse - input).pow(2).sum().item<double>();
        }

        // A unit step size makes x − x' the gradient itself.
        using var result = step.Apply(x, y, null, 1.0);
        using var gradient = x - result.Guided;
        var flat = x.flatten();
        const double h = 1e-6;
        for (int i = 0; i < flat.shape[0]; i += 5)
        {
            using var plus = x.clone();
            using var minus = x.clone();
            plus.view(-1)[i] += h;
            minus.view(-1)[i] -= h;
            double numeric = (Loss(plus) - Loss(minus)) / (2 * h);
            Assert.Equal(numeric, gradient.view(-1)[i].item<double>(), 6);
        }
    }

    [Fact]
    public void A_batch_gets_exactly_the_steps_its_images_would_get_alone()
    {
        // Reference: each image on its own. A whole-batch norm would couple the images and fail this.
        var generator = new Generator(9);
        using var inn = SmallFloat64Inn(generator);
        using var x = torch.randn(new long[] { 3, 4, 8, 8 }, generator: generator, dtype: ScalarType.Float64);
        using var y = torch.randn(new long[] { 3, 4, 4, 4 }, generator: generator, dtype: ScalarType.Float64);
        var step = new InnGuidanceStep(inn, 1.0, 0.5);
        using var batched = step.Apply(x, y, null, 0.3);
        double coarseSum = 0, consistencySum = 0;
        for (int i = 0; i < 3; i++)
        {
            using var alone = step.Apply(x.narrow(0, i, 1), y.narrow(0, i, 1), null, 0.3);
            using var difference = (alone.Guided - batched.Guided.narrow(0, i, 1)).abs().max();
            Assert.True(difference.item<double>() < 1e-12, $"image {i}: {difference.item<double>():E2}");
            coarseSum += alone.CoarseDistance;
            consistencySum += alone.Consistency;
        }
        Assert.Equal(coarseSum, batched.CoarseDistance, 10);
        Assert.Equal(consistencySum, batched.Consistency, 10);
    }

    [Fact]
    public void Both_engines_take_the_same_step_with_bundled_weights()
    {
        // ONNX Runtime's generated gradient graph against TorchSharp autograd, both float32, on a 3-tile batch with
        // a random condition. Measured relative L2 difference of the step (guided − x): 2.4e-7 (float32 rounding
        // through both passes and their reverse); 1e-5 (the bound) leaves a 40× margin.
        using var inn = BundledInn.Load(BundledInnWeights.RealWorldX4);
        var generator = new Generator(3);
        using var x = torch.rand(new long[] { 3, 3, 40, 24 }, generator: generator);
        using var y = torch.rand(new long[] { 3, 3, 10, 6 }, generator: generator);
        using var gamma = torch.randn(new long[] { 3, 128 }, generator: generator);
        var step = new InnGuidanceStep(inn, 1.0, 0.5);
        inn.Engine = InnEngine.OnnxRuntime;
        using var onnx = step.Apply(x, y, gamma, 0.2);
        inn.Engine = InnEngine.TorchSharp;
        using var torchSharp = step.Apply(x, y, gamma, 0.2);
        using var expected = torchSharp.Guided - x;
        using var actual = onnx.Guided - x;
        double error = (actual - expected).norm().item<float>() / expected.norm().item<float>();
        Console.WriteLine($"ONNX Runtime vs TorchSharp guidance step: relative L2 difference {error:E2}");
        Assert.True(error < 1e-5, $"relative difference {error:E2}");
        // The loss terms are float32 sums of thousands (3,073 here): compare relatively, with the bound (3 decimal
        // places absolute is 7 significant digits, float32's own precision, and failed by 1e-3 on 3,072.84).
        Assert.InRange(Math.Abs(torchSharp.CoarseDistance - onnx.CoarseDistance) / Math.Abs(torchSharp.CoarseDistance), 0, 1e-5);
        Assert.InRange(Math.Abs(torchSharp.Consistency - onnx.Consistency) / Math.Abs(torchSharp.Consistency), 0, 1e-5);
    }

    [Fact]
    public void Onnx_runtime_engine_refuses_a_float64_inn_with_advice()
    {
        var generator = new Generator(2);
        using var inn = SmallFloat64Inn(generator);
        inn.Engine = InnEngine.OnnxRuntime;
        using var x = torch.randn(new long[] { 1, 4, 4, 4 }, dtype: ScalarType.Float64);
        using var y = torch.randn(new long[] { 1, 4, 2, 2 }, dtype: ScalarType.Float64);
        var e = Assert.Throws<InnInputException>(() => new InnGuidanceStep(inn, 1, 0.5).Apply(x, y, null, 1.0));
        Assert.Contains("float32", e.Message);
    }

    [Fact]
    public void A_taken_estimate_outlives_the_result_and_an_untaken_one_does_not()
    {
        using var inn = new LiftingInn(new LiftingInnOptions { Channels = 3, Levels = 1 });
        using var x = torch.rand(1, 3, 8, 8);
        using var y = torch.rand(1, 3, 4, 4);
        var step = new InnGuidanceStep(inn, 1, 0.5);
        Tensor taken;
        using (var result = step.Apply(x, y, null, 1.0))
        {
            taken = result.TakeGuided();
        }
        using (taken)
        {
            Assert.False(taken.IsInvalid);
            Assert.True(taken.isfinite().all().item<bool>());
        }
        var kept = step.Apply(x, y, null, 1.0);
        kept.Dispose();
        Assert.True(kept.Guided.IsInvalid);
    }

    [Fact]
    public void Does_not_touch_inn_parameter_gradients()
    {
        using var inn = new LiftingInn(new LiftingInnOptions { Channels = 3, Levels = 1 });
        using var x = torch.rand(1, 3, 8, 8);
        using var y = torch.rand(1, 3, 4, 4);
        using var result = new InnGuidanceStep(inn, 1, 0.5).Apply(x, y, null, 1.0);
        Assert.All(inn.parameters(), p => Assert.True(p.grad is null || p.grad.abs().sum().item<float>() == 0));
    }

    [Fact]
    public void Observation_of_the_wrong_size_is_rejected()
    {
        using var inn = new LiftingInn(new LiftingInnOptions { Channels = 3, Levels = 2 });
        using var x = torch.rand(1, 3, 16, 16);
        using var y = torch.rand(1, 3, 8, 8);
        var ex = Assert.Throws<ArgumentException>(() => new InnGuidanceStep(inn, 1, 0.5).Apply(x, y, null, 1.0));
        Assert.Contains("[1,3,4,4]", ex.Message);
    }
}
