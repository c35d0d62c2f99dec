using LatentIndigo.Degradations;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Degradations;

public class MixtureDegradationTests
{
    [Fact]
    public void Each_image_gets_exactly_one_alternative_applied_on_its_own()
    {
        // Alternatives whose outputs are easy to tell apart and computed independently here: plain bicubic, and
        // bicubic followed by a box blur written out as a kernel.
        var mix = DegradationSpec.Parse("bicubic:x2|bicubic:x2>kernel:values=0;0;0;0;0.5;0.5;0;0;0");
        Assert.IsType<MixtureDegradation>(mix);
        Assert.Equal(2, mix.ScaleFactor);
        using var batch = torch.rand([8, 3, 16, 16], generator: new Generator(3));
        using var gen = new Generator(11);
        using var output = mix.Apply(batch, gen);
        Assert.Equal(new long[] { 8, 3, 8, 8 }, output.shape);
        var a = DegradationSpec.Parse("bicubic:x2");
        var b = DegradationSpec.Parse("bicubic:x2>kernel:values=0;0;0;0;0.5;0.5;0;0;0");
        int usedA = 0, usedB = 0;
        for (var i = 0; i < 8; i++)
        {
            using var one = batch.narrow(0, i, 1);
            using var ya = a.Apply(one);
            using var yb = b.Apply(one);
            using var got = output.narrow(0, i, 1);
            var da = (got - ya).abs().max().item<float>();
            var db = (got - yb).abs().max().item<float>();
            // Exactly one of the two matches (the blur changes the image by far more than rounding).
            Assert.True((da == 0) ^ (db == 0), $"image {i}: differences {da} and {db}");
            if (da == 0) usedA++; else usedB++;
        }
        Assert.True(usedA > 0 && usedB > 0, $"8 draws picked only one alternative ({usedA}/{usedB})");
    }

    [Fact]
    public void Same_seed_same_choices_and_the_trace_names_them()
    {
        var mix = (MixtureDegradation)DegradationSpec.Parse("bicubic:x2 | bicubic:x2>noise:sigma=10");
        using var batch = torch.rand([6, 3, 16, 16], generator: new Generator(5));
        var trace = new DegradationTrace(6);
        using var first = mix.Apply(batch, new Generator(42), trace);
        using var second = mix.Apply(batch, new Generator(42));
        Assert.True(first.equal(second).all().item<bool>());
        for (var i = 0; i < 6; i++)
        {
            var steps = trace.StepsOf(i);
            Assert.Equal("mix", steps[0].Operator);
            var choice = (int)steps[0].Parameters["choice"];
            Assert.Equal(choice == 0 ? 1 : 2, steps.Count - 1); // bicubic, or bicubic then noise
        }
        Assert.Equal("bicubic:x2|bicubic:x2>noise:sigma=10", mix.Spec);
        Assert.Equal(mix.Spec, DegradationSpec.Parse(mix.Spec).Spec);
    }

    [Theory]
    [InlineData("bicubic:x4|bicubic:x2", "same factor")]
    [InlineData("bicubic:x4||bicubic:x4", "empty alternative")]
    [InlineData("bicubic:x4|", "empty alternative")]
    public void Bad_mixtures_are_refused_with_the_reason(string spec, string expected)
    {
        var ex = Assert.Throws<DegradationSpecException>(() => DegradationSpec.Parse(spec));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
