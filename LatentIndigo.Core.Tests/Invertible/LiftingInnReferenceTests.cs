using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Invertible.InnTestHelpers;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LatentIndigo.Tests.Invertible;

/// <summary>
/// Re-derives the INDIGO+ forward transform from algorithm.md §2 with functional ops in float64, reading the weights
/// by their official key names from a file written in the PyTorch layout, and compares it with the module.
/// </summary>
public class LiftingInnReferenceTests
{
    [Theory]
    [InlineData(3, 0.5, 2, 2)]
    [InlineData(4, 0.0, 2, 1)]
    public void Forward_matches_a_functional_reimplementation(int channels, double offset, int levels, int k)
    {
        using var scope = NewDisposeScope();
        var options = new LiftingInnOptions { Channels = channels, Offset = offset, Levels = levels, ResBlocks = k };
        using var inn = RandomInn(options, seed: 21);
        var path = TempPath(".pth");
        inn.SavePyTorchStateDict(path);
        var sd = StateDictFile.Read(path, out _).ToDictionary(e => e.Key, e => e.Value.to(float64));
        File.Delete(path);

        using var g = new Generator(77);
        var x = rand(2, channels, 24, 16, generator: g, dtype: float64);
        var cond = randn(2, 128, generator: g, dtype: float64);

        var (refCoarse, refDetails) = ReferenceForward(x, cond, sd, channels, offset, levels, k);

        inn.to(float64);
        using var dec = inn.Forward(x, cond);
        Assert.True(MaxAbs(dec.Coarse, refCoarse) < 1e-10, $"coarse differs by {MaxAbs(dec.Coarse, refCoarse)}");
        for (int l = 0; l < levels; l++)
        {
            for (int b = 0; b < 3; b++)
            {
                Assert.True(MaxAbs(dec.Details[l][b], refDetails[l][b]) < 1e-10);
            }
        }
    }

    private static (Tensor, List<Tensor[]>) ReferenceForward(
        Tensor x, Tensor cond, Dictionary<string, Tensor> sd, int channels, double offset, int levels, int k)
    {
        var even = TensorIndex.Slice(0, null, 2);
        var odd = TensorIndex.Slice(1, null, 2);
        var all = TensorIndex.Colon;
        var c = x - offset;
        var details = new List<Tensor[]>();
        for (int level = 0; level < levels; level++)
        {
            var coarse = c[all, all, even, even];
            var d = new[] { c[all, all, odd, even], c[all, all, even, odd], c[all, all, odd, odd] };
            for (int i = 0; i < 4; i++)
            {
                var pre = $"transform_net.inn.lifts.{i}.";
                var p = SubNet(coarse, cond, sd, pre + "p.net.", k);
                Assert.Equal(3 * channels, p.shape[1]);
                // Overlapping slices: detail j takes predictor channels [j, j+C).
                d = Enumerable.Range(0, 3).Select(j => d[j] + p[all, TensorIndex.Slice(j, j + channels)]).ToArray();
                coarse = coarse + SubNet(cat(d, 1), cond, sd, pre + "u.net.", k);
            }
            details.Insert(0, d);
            c = coarse;
        }
        return (c + offset, details);
    }

    private static Tensor SubNet(Tensor x, Tensor cond, Dictionary<string, Tensor> sd, string pre, int k)
    {
        var h = F.conv2d(x, sd[pre + "convin.weight"], padding: [1, 1]);
        for (int b = 0; b < k; b++)
        {
            var bp = $"{pre}blocks.{b}.";
            var s = F.linear(F.relu(F.linear(cond, sd[bp + "fc.0.weight"], sd[bp + "fc.0.bias"])), sd[bp + "fc.2.weight"], sd[bp + "fc.2.bias"]);
            var r = F.conv2d(F.relu(F.conv2d(h, sd[bp + "conv1.weight"], sd[bp + "conv1.bias"], padding: [1, 1])),
                sd[bp + "conv2.weight"], sd[bp + "conv2.bias"], padding: [1, 1]);
            h = h + r * s.unsqueeze(-1).unsqueeze(-1);
        }
        return F.conv2d(h, sd[pre + "convout.weight"], padding: [1, 1]);
    }
}
