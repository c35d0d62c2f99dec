using LatentIndigo.Degradations;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Degradations;

public class SequentialDegradationTests
{
    /// <summary>A user degradation written the way docs/degradations.md shows: darken by a factor.</summary>
    private sealed class Darken(double factor) : IDegradationModel
    {
        public int ScaleFactor => 1;
        public string Spec => $"darken:{factor}";
        public Tensor Apply(Tensor batch, Generator? generator = null) => batch.mul(factor);
    }

    [Fact]
    public void Stages_run_in_order_and_the_scale_factors_multiply()
    {
        using var g = new Generator(1, torch.CPU);
        using var x = torch.rand([2, 3, 32, 32], generator: g);
        var blur = BlurDegradation.Gaussian(1.5);
        var down = new ResizeDegradation(2);
        var seq = new SequentialDegradation([blur, down, new Darken(0.5), new ResizeDegradation(2, ResizeMethod.Area)]);
        Assert.Equal(4, seq.ScaleFactor);
        Assert.Equal("gauss:sigma=1.5,size=11>bicubic:x2>darken:0.5>area:x2", seq.Spec);
        using var y = seq.Apply(x);
        using var b = blur.Apply(x);
        using var d = down.Apply(b);
        using var expected = torch.nn.functional.avg_pool2d(d * 0.5, 2);
        Assert.True(y.allclose(expected, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Trace_records_every_stage_per_image()
    {
        using var g = new Generator(1, torch.CPU);
        using var x = torch.rand([2, 3, 32, 32], generator: g);
        var model = DegradationSpec.Parse("gauss:sigma=1>bicubic:x2>noise:sigma=3>jpeg:q=50");
        var trace = new DegradationTrace(2);
        using var y = ((DegradationModel)model).Apply(x, g, trace);
        Assert.Equal(new long[] { 2, 3, 16, 16 }, y.shape);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(["gauss", "bicubic", "noise", "jpeg"], trace.StepsOf(i).Select(s => s.Operator));
        }
        Assert.Equal(50, trace.StepsOf(1)[3].Parameters["q"]);
        Assert.Throws<DegradationException>(() => ((DegradationModel)model).Apply(x, g, new DegradationTrace(3)));
    }

    [Fact]
    public void Needs_sizes_divisible_by_the_total_factor_and_larger_than_every_kernel()
    {
        var seq = DegradationSpec.Parse("bicubic:x2>gauss:sigma=3,size=19");
        using var x = torch.rand([1, 3, 36, 36]);
        // The 19×19 blur runs at half size, so it needs (9+1)·2 = 20 pixels; 36 is fine, 18 is not.
        using var ok = seq.Apply(x);
        using var small = torch.rand([1, 3, 18, 18]);
        Assert.Contains("at least 20x20", Assert.Throws<DegradationException>(() => seq.Apply(small)).Message);
    }
}
