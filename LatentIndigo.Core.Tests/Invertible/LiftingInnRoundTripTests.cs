using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Invertible.InnTestHelpers;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

public class LiftingInnRoundTripTests
{
    [Theory]
    [InlineData(3, 0.5, 2, 2, 1, 32, 48)]   // INDIGO+ pixel INN, non-square
    [InlineData(3, 0.5, 1, 2, 2, 16, 16)]
    [InlineData(3, 0.5, 3, 1, 1, 64, 40)]
    [InlineData(4, 0.0, 2, 2, 2, 16, 24)]   // latent INN
    [InlineData(4, 0.0, 3, 2, 1, 32, 32)]
    [InlineData(6, 0.0, 2, 1, 1, 8, 8)]     // any channel count
    public void Inverse_of_forward_restores_the_input_within_1e5(int channels, double offset, int levels, int k, int batch, int h, int w)
    {
        using var scope = NewDisposeScope();
        using var inn = RandomInn(new LiftingInnOptions { Channels = channels, Offset = offset, Levels = levels, ResBlocks = k }, seed: 11 + levels);
        using var g = new Generator((ulong)(1234 + h));
        var x = rand(batch, channels, h, w, generator: g);
        var cond = randn(batch, 128, generator: g);
        using var dec = inn.Forward(x, cond);

        Assert.Equal(new long[] { batch, channels, h >> levels, w >> levels }, dec.Coarse.shape);
        Assert.Equal(levels, dec.Details.Count);
        for (int level = 0; level < levels; level++)
        {
            Assert.Equal(3, dec.Details[level].Count);
            // Coarsest first: level 0 has the coarse band's size, each later level doubles it.
            Assert.All(dec.Details[level], d => Assert.Equal(new long[] { batch, channels, (h >> levels) << level, (w >> levels) << level }, d.shape));
        }
        var back = inn.Inverse(dec.Coarse, dec.Details, cond);
        Assert.True(MaxAbs(back, x) <= 1e-5, $"round-trip error {MaxAbs(back, x)}");
        // The transform is far from the identity: the coarse band differs from plain subsampling.
        var sub = x[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(0, null, 1 << levels), TensorIndex.Slice(0, null, 1 << levels)];
        Assert.True(MaxAbs(dec.Coarse, sub) > 1e-3);
    }

    [Fact]
    public void Null_condition_means_a_vector_of_ones()
    {
        using var scope = NewDisposeScope();
        using var inn = RandomInn(LiftingInnOptions.Pixel(), seed: 5);
        using var g = new Generator(9);
        var x = rand(2, 3, 16, 16, generator: g);
        using var a = inn.Forward(x, null);
        using var b = inn.Forward(x, ones(2, 128));
        using var c = inn.Forward(x, ones(1, 128)); // broadcast over the batch
        using var d = inn.Forward(x, randn(2, 128, generator: g));
        Assert.Equal(0, MaxAbs(a.Coarse, b.Coarse));
        Assert.Equal(0, MaxAbs(a.Coarse, c.Coarse));
        Assert.True(MaxAbs(a.Coarse, d.Coarse) > 1e-4, "the condition must change the output");
    }

    [Fact]
    public void Lazy_wavelet_reset_gives_plain_polyphase_subsampling()
    {
        using var scope = NewDisposeScope();
        using var inn = RandomInn(LiftingInnOptions.Pixel(), seed: 3);
        inn.ResetToLazyWavelet();
        using var g = new Generator(4);
        var x = rand(1, 3, 16, 20, generator: g);
        using var dec = inn.Forward(x, null);
        var s = TensorIndex.Slice(0, null, 4);
        Assert.Equal(0, MaxAbs(dec.Coarse, x[TensorIndex.Colon, TensorIndex.Colon, s, s]));
        // Finest level (last): phases of the full-resolution grid, after the offset, in INDIGO+ order.
        var even = TensorIndex.Slice(0, null, 2);
        var odd = TensorIndex.Slice(1, null, 2);
        var finest = dec.Details[1];
        Assert.Equal(0, MaxAbs(finest[0], x[TensorIndex.Colon, TensorIndex.Colon, odd, even] - 0.5));
        Assert.Equal(0, MaxAbs(finest[1], x[TensorIndex.Colon, TensorIndex.Colon, even, odd] - 0.5));
        Assert.Equal(0, MaxAbs(finest[2], x[TensorIndex.Colon, TensorIndex.Colon, odd, odd] - 0.5));
    }

    [Theory]
    [InlineData(3, 488_960)]
    [InlineData(4, 498_176)]
    public void Parameter_count_matches_the_architecture_table(int channels, long expected)
    {
        using var inn = new LiftingInn(new LiftingInnOptions { Channels = channels });
        Assert.Equal(expected, inn.ParameterCount);
    }

    [Fact]
    public void Parameter_names_follow_the_official_module_tree()
    {
        using var inn = new LiftingInn(new LiftingInnOptions { ResBlocks = 2 });
        var names = inn.named_parameters().Select(p => p.name).ToHashSet();
        foreach (var i in Enumerable.Range(0, 4))
        {
            foreach (var pu in new[] { "p", "u" })
            {
                var net = $"lifts.{i}.{pu}.net.";
                Assert.Contains(net + "convin.weight", names);
                Assert.Contains(net + "convout.weight", names);
                foreach (var k in new[] { 0, 1 })
                {
                    foreach (var layer in new[] { "conv1", "conv2", "fc.0", "fc.2" })
                    {
                        Assert.Contains($"{net}blocks.{k}.{layer}.weight", names);
                        Assert.Contains($"{net}blocks.{k}.{layer}.bias", names);
                    }
                }
            }
        }
        Assert.Equal(4 * 2 * (2 + 2 * 8), names.Count); // convin/out have no bias
    }
}
