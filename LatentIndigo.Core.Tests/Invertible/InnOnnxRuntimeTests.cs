using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

/// <summary>
/// The generated ONNX graphs (forward, inverse, guidance loss and its hand-written gradient) against an independent
/// reference: the same network in TorchSharp, float64, differentiated by autograd, with the loss written out here.
/// </summary>
/// <remarks>
/// Tolerance: relative L2 error ≤ 1e-5 (the bound). ONNX Runtime computes in float32 against a float64
/// reference, so the error is float32 rounding through 4 lifting steps × J levels of ResNets (forward, inverse and the
/// reverse of both for the gradient). Measured on these cases (2026-11-27, the dev container's CPU, MLAS): forward and
/// inverse bands 5e-8..3.5e-7, gradient 4e-7..3.0e-6 (worst: pixel J = 3, batch 3), printed by each case; so 1e-5 keeps a
/// 3× margin. A wrong sign, band order or missing VJP term gives errors of order 0.1..1.
/// </remarks>
public sealed class InnOnnxRuntimeTests
{
    private const double Tolerance = 1e-5;

    public enum Weights { Random, Bundled }

    public enum Gamma { Null, Ones, Random, RandomBroadcast }

    public static IEnumerable<object[]> Cases => new object[][]
    {
        // name, channels, levels, resBlocks, width, conditionSize, weights, gamma, batch, height, width
        ["pixel J=2", 3, 2, 2, 32, 128, Weights.Random, Gamma.Null, 1, 20, 28],
        ["pixel J=1", 3, 1, 2, 32, 128, Weights.Random, Gamma.Ones, 3, 10, 14],
        ["pixel J=3", 3, 3, 2, 16, 128, Weights.Random, Gamma.Random, 3, 24, 40],
        ["latent J=2", 4, 2, 2, 32, 128, Weights.Random, Gamma.RandomBroadcast, 3, 20, 12],
        ["latent J=1", 4, 1, 2, 32, 128, Weights.Random, Gamma.Null, 1, 6, 10],
        ["latent J=3", 4, 3, 1, 16, 32, Weights.Random, Gamma.Random, 1, 24, 8],
        ["bundled pixel", 3, 2, 2, 32, 128, Weights.Bundled, Gamma.Null, 1, 36, 28],
        ["bundled pixel batch", 3, 2, 2, 32, 128, Weights.Bundled, Gamma.Random, 3, 20, 12],
        ["C=1 K=0", 1, 2, 0, 8, 5, Weights.Random, Gamma.Random, 3, 12, 20],
        ["C=2 K=3", 2, 2, 3, 8, 7, Weights.Random, Gamma.Ones, 1, 12, 4],
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Passes_and_gradient_equal_float64_autograd(string name, int channels, int levels, int resBlocks, int width,
        int conditionSize, Weights weights, Gamma gamma, int batch, int height, int imageWidth)
    {
        var options = new LiftingInnOptions
        {
            Channels = channels, Levels = levels, ResBlocks = resBlocks, Width = width, ConditionSize = conditionSize,
            Offset = channels == 3 ? 0.5 : 0,
        };
        using var inn = weights == Weights.Bundled ? BundledInn.Load(BundledInnWeights.BicubicX4) : InnTestHelpers.RandomInn(options, seed: 11 + levels);
        using var reference = Float64Copy(inn);
        using var generator = new Generator(1234);
        using var x = rand(new long[] { batch, channels, height, imageWidth }, generator: generator);
        using var condition = gamma switch
        {
            Gamma.Null => null,
            Gamma.Ones => ones(batch, inn.ConditionSize),
            Gamma.Random => randn(new long[] { batch, inn.ConditionSize }, generator: generator),
            _ => randn(new long[] { 1, inn.ConditionSize }, generator: generator),
        };
        using var condition64 = condition?.to(float64);
        using var x64 = x.to(float64);
        using var runtime = new InnOnnxRuntime(inn);

        // Forward.
        using var expected = reference.Forward(x64, condition64);
        using var actual = runtime.Forward(x, condition);
        AssertClose(name + " coarse", expected.Coarse, actual.Coarse);
        for (int l = 0; l < levels; l++)
        {
            for (int k = 0; k < 3; k++)
            {
                AssertClose($"{name} detail {l}.{k}", expected.Details[l][k], actual.Details[l][k]);
            }
        }

        // Inverse, from perturbed bands so that it is not just the identity round trip.
        using var coarse = (expected.Coarse + 0.1 * randn(expected.Coarse.shape, dtype: float64, generator: generator)).to(float32);
        var details = expected.Details.Select(level => (IReadOnlyList<Tensor>)level.Select(b => b.to(float32)).ToArray()).ToArray();
        using var inverseExpected = reference.Inverse(coarse.to(float64), details.Select(l => (IReadOnlyList<Tensor>)l.Select(b => b.to(float64)).ToArray()).ToArray(), condition64);
        using var inverseActual = runtime.Inverse(coarse, details, condition);
        AssertClose(name + " inverse", inverseExpected, inverseActual);

        // Guidance loss and gradient, against an observation near (not at) the coarse band.
        using var observation = coarse.alias();
        const double w0 = 0.7, w1 = 1.3;
        var (gradient, coarseDistance, consistency) = runtime.GuidanceGradient(x, observation, condition, w0, w1);
        var (gradientExpected, coarseDistanceExpected, consistencyExpected) = ReferenceGradient(reference, x64, observation.to(float64), condition64, w0, w1);
        using (gradientExpected)
        {
            AssertClose(name + " gradient", gradientExpected, gradient);
        }
        Assert.InRange(Math.Abs(coarseDistance - coarseDistanceExpected) / coarseDistanceExpected, 0, Tolerance);
        Assert.InRange(Math.Abs(consistency - consistencyExpected) / consistencyExpected, 0, Tolerance);
        foreach (var level in details)
        {
            foreach (var b in level)
            {
                b.Dispose();
            }
        }
    }

    [Fact]
    public void In_place_weight_updates_are_seen_without_rebuilding_and_replaced_tensors_are_rebound()
    {
        var options = LiftingInnOptions.Latent() with { Width = 8, ResBlocks = 1 };
        using var inn = InnTestHelpers.RandomInn(options, seed: 5);
        inn.Engine = InnEngine.TorchSharp; // inn.Forward is the reference; the runtime under test is separate
        using var runtime = new InnOnnxRuntime(inn);
        using var x = randn(1, 4, 8, 8);
        using (var before = runtime.Forward(x, null))
        using (var noGrad = no_grad())
        {
            foreach (var p in inn.parameters())
            {
                p.mul_(1.5); // in place, as Adam updates them
            }
            using var after = runtime.Forward(x, null);
            using var expected = inn.Forward(x, null);
            Assert.True(InnTestHelpers.MaxAbs(before.Coarse, after.Coarse) > 1e-3, "the update changed nothing");
            AssertClose("after in-place update", expected.Coarse, after.Coarse);
        }
        Assert.Equal(1, runtime.CachedSessions);
        // Module.to(...) registers new parameter tensors (new storage): the runtime must rebind, not read freed memory.
        inn.to(float64);
        inn.to(float32);
        using (var noGrad = no_grad())
        {
            foreach (var p in inn.parameters())
            {
                p.mul_(0.5); // a runtime still bound to the old storage would not see this
            }
        }
        using var replaced = runtime.Forward(x, null);
        using var replacedExpected = inn.Forward(x, null);
        AssertClose("after storage replacement", replacedExpected.Coarse, replaced.Coarse);
    }

    [Fact]
    public void A_cancelled_token_builds_no_session_and_throws()
    {
        var options = LiftingInnOptions.Latent() with { Width = 8 };
        using var inn = InnTestHelpers.RandomInn(options, seed: 6);
        using var runtime = new InnOnnxRuntime(inn);
        using var x = randn(1, 4, 8, 8);
        using var y = randn(1, 4, 2, 2);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => runtime.GuidanceGradient(x, y, null, 1, 1, cancelled.Token));
        Assert.Equal(0, runtime.CachedSessions);
        // Once built, a run with a cancelled token is refused too (ONNX Runtime's terminate flag covers runs in flight).
        runtime.GuidanceGradient(x, y, null, 1, 1);
        Assert.ThrowsAny<OperationCanceledException>(() => runtime.GuidanceGradient(x, y, null, 1, 1, cancelled.Token));
    }

    [Fact]
    public void Float64_networks_are_refused_with_advice()
    {
        using var inn = new LiftingInn(LiftingInnOptions.Latent());
        inn.to(float64);
        var e = Assert.Throws<InnInputException>(() => new InnOnnxRuntime(inn));
        Assert.Contains("InnEngine.TorchSharp", e.Message);
    }

    /// <summary>L = w0·Σ_b √(‖y_b − c_b‖² + ε) + w1·‖g⁻¹(y, d) − x‖², differentiated by TorchSharp autograd in float64.</summary>
    private static (Tensor Gradient, double CoarseDistance, double Consistency) ReferenceGradient(LiftingInn inn, Tensor x, Tensor y,
        Tensor? condition, double w0, double w1)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var input = x.detach().requires_grad_(true);
        using var decomposition = inn.Forward(input, condition);
        var coarseDistance = (y - decomposition.Coarse).pow(2).sum(new long[] { 1, 2, 3 }).add(1e-12).sqrt().sum();
        var consistency = (inn.Inverse(y, decomposition.Details, condition) - input).pow(2).sum();
        var loss = coarseDistance * w0 + consistency * w1;
        var gradient = autograd.grad(new[] { loss }, new[] { input })[0];
        return (gradient.detach().MoveToOuterDisposeScope(), coarseDistance.item<double>(), consistency.item<double>());
    }

    private static LiftingInn Float64Copy(LiftingInn inn)
    {
        var copy = new LiftingInn(inn.Options);
        using var noGrad = no_grad();
        foreach (var ((_, target), (_, source)) in copy.named_parameters().Zip(inn.named_parameters()))
        {
            target.copy_(source);
        }
        copy.to(float64);
        return copy;
    }

    private static void AssertClose(string what, Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var e = expected.to(float64);
        using var a = actual.to(float64);
        double error = (a - e).norm().item<double>() / Math.Max(e.norm().item<double>(), 1e-30);
        Console.WriteLine($"{what}: relative L2 error {error:E2}");
        Assert.True(error <= Tolerance, $"{what}: relative L2 error {error:E3} > {Tolerance:E0}");
    }
}
