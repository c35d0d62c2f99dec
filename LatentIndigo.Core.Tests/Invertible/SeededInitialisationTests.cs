using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

/// <summary>
/// A new network's weights come from its seed, not from libtorch's process-wide generator (which nothing seeds, so it
/// differs between processes, and which concurrent restores share): blind refinement trains those weights, and latent
/// restores with refinement differed from run to run while they came from the global generator.
/// </summary>
public class SeededInitialisationTests
{
    private static readonly LiftingInnOptions Small = new() { Channels = 4, Offset = 0, Levels = 1, ResBlocks = 1, Width = 8, ConditionSize = 16 };

    private static Dictionary<string, Tensor> Weights(nn.Module module) =>
        module.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());

    private static void AssertSameWeights(nn.Module a, nn.Module b)
    {
        var wa = Weights(a);
        var wb = Weights(b);
        Assert.Equal(wa.Keys.Order(StringComparer.Ordinal), wb.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, value) in wa)
        {
            Assert.True(value.equal(wb[key]).all().item<bool>(), $"{key} differs");
        }
    }

    // Draws from (and so moves) libtorch's global generator without reseeding it: the state differs between the two
    // constructions as it would between two processes.
    private static void AdvanceGlobalGenerator()
    {
        using var draw = torch.rand(1000);
    }

    [Fact]
    public void Equal_seeds_give_equal_networks_whatever_the_global_generator_did_in_between()
    {
        using var first = new LiftingInn(Small, seed: 7);
        AdvanceGlobalGenerator();
        using var second = new LiftingInn(Small, seed: 7);
        AssertSameWeights(first, second);

        using var encoderA = new DegradationEncoder(3, 16, width: 8, seed: 7);
        AdvanceGlobalGenerator();
        using var encoderB = new DegradationEncoder(3, 16, width: 8, seed: 7);
        AssertSameWeights(encoderA, encoderB);

        // The seedless constructor is seed 0, not the global generator.
        using var defaultA = new LiftingInn(Small);
        AdvanceGlobalGenerator();
        using var defaultB = new LiftingInn(Small, seed: 0);
        AssertSameWeights(defaultA, defaultB);
    }

    [Fact]
    public void Different_seeds_give_different_weights_in_every_layer()
    {
        using var a = new LiftingInn(Small, seed: 1);
        using var b = new LiftingInn(Small, seed: 2);
        var wb = Weights(b);
        foreach (var (key, value) in Weights(a))
        {
            Assert.False(value.equal(wb[key]).all().item<bool>(), $"{key} is the same for seeds 1 and 2");
        }
    }

    [Fact]
    public void Networks_built_on_several_threads_at_once_match_one_built_alone()
    {
        using var alone = new LiftingInn(Small, seed: 3);
        var built = new LiftingInn[4];
        Parallel.For(0, built.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            built[i] = new LiftingInn(Small, seed: 3);
            using var draw = torch.rand(100); // other threads use the global generator meanwhile
        });
        foreach (var inn in built)
        {
            AssertSameWeights(alone, inn);
            inn.Dispose();
        }
    }

    /// <summary>
    /// PyTorch's default for Conv2d and Linear (kaiming_uniform_ with a = √5, and the bias rule) is uniform in
    /// ±1/√fan_in, fan_in = input channels × kernel area, here computed from each layer's declared shape. A uniform
    /// variable on ±b has variance b²/3 and its mean a standard error of b/√(3n) (0.013 b at n = 2,000: 7 % is five of them); the sample variance of n draws has a relative standard error of √(0.8/n), so for
    /// the tensors checked (n ≥ 2,000, error ≤ 2 %) 10 % is five standard errors. The encoder's last layer starts at zero.
    /// </summary>
    [Fact]
    public void Weights_follow_PyTorch_default_bounds_and_spread()
    {
        var options = new LiftingInnOptions { Channels = 3, Levels = 1, ResBlocks = 1, Width = 32, ConditionSize = 128 };
        using var inn = new LiftingInn(options, seed: 11);
        using var encoder = new DegradationEncoder(3, 128, width: 32, seed: 11);
        int checkedSpread = 0;
        var all = inn.state_dict().Select(p => (Name: p.Key, Value: p.Value))
            .Concat(encoder.state_dict().Select(p => (Name: "encoder." + p.Key, p.Value)));
        foreach (var (name, value) in all)
        {
            var v = value.detach().to(float64);
            if (name.StartsWith("encoder.fc2.", StringComparison.Ordinal))
            {
                Assert.Equal(0.0, v.abs().max().item<double>());
                continue;
            }
            // fan_in from the architecture: the weight's [out, in, kh, kw] or [out, in]; a bias takes its weight's.
            string weightName = name.EndsWith(".bias", StringComparison.Ordinal) ? name[..^".bias".Length] + ".weight" : name;
            var weightShape = (weightName.StartsWith("encoder.", StringComparison.Ordinal)
                ? encoder.state_dict()[weightName["encoder.".Length..]]
                : inn.state_dict()[weightName]).shape;
            long fanIn = weightShape.Skip(1).Aggregate(1L, (x, y) => x * y);
            double bound = 1 / Math.Sqrt(fanIn);
            Assert.True(v.abs().max().item<double>() <= bound, $"{name}: a value beyond ±1/√{fanIn}");
            if (v.numel() >= 2000)
            {
                double variance = v.square().mean().item<double>();
                double expected = bound * bound / 3;
                Assert.True(Math.Abs(variance / expected - 1) < 0.10, $"{name}: variance {variance:E3}, uniform on ±{bound:E3} gives {expected:E3}");
                Assert.True(Math.Abs(v.mean().item<double>()) < 0.07 * bound, $"{name}: mean {v.mean().item<double>():E3} is not near 0");
                checkedSpread++;
            }
        }
        Assert.True(checkedSpread >= 10, $"only {checkedSpread} tensors were large enough to check the spread");
    }
}
