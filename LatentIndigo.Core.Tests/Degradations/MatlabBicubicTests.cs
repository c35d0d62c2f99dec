using LatentIndigo.Degradations;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Degradations;

public class MatlabBicubicTests
{
    // MATLAB's ×2 bicubic downscaling weights: 0.5·cubic(0.5·d) at d = ±0.5, ±1.5, ±2.5, ±3.5, which already sum to 1:
    // cubic(0.25) = 0.8671875, cubic(0.75) = 0.2265625, cubic(1.25) = −0.0703125, cubic(1.75) = −0.0234375.
    private static readonly double[] Down2 = [-0.01171875, -0.03515625, 0.11328125, 0.43359375, 0.43359375, 0.11328125, -0.03515625, -0.01171875];

    /// <summary>A [1,1,rows,n] tensor whose every row is <paramref name="signal"/>, so a resize acts on it along W.</summary>
    private static Tensor Rows(double[] signal, int rows = 4) =>
        torch.tensor(signal.Select(v => (float)v).ToArray(), [1, 1, 1, signal.Length]).expand(1, 1, rows, signal.Length).contiguous();

    private static double[] FirstRow(Tensor t) => t[0, 0, 0].to(ScalarType.Float64).data<double>().ToArray();

    [Fact]
    public void Downscale_by_2_uses_the_closed_form_weights_in_the_interior()
    {
        var x = new double[32];
        x[15] = 1; // impulse at 1-based position 16
        using var input = Rows(x);
        using var output = MatlabBicubic.Resize(input, 0.5);
        Assert.Equal(new long[] { 1, 1, 2, 16 }, output.shape);
        var y = FirstRow(output);
        // Output i (1-based) reads inputs 2i−4 … 2i+3 with weights Down2, so the impulse at 16 lands in outputs 7..10.
        var expected = new double[16];
        for (var i = 1; i <= 16; i++)
        {
            var offset = 16 - (2 * i - 4);
            expected[i - 1] = offset is >= 0 and < 8 ? Down2[offset] : 0;
        }
        for (var i = 0; i < 16; i++)
        {
            Assert.Equal(expected[i], y[i], 6);
        }
    }

    [Fact]
    public void Downscale_by_2_mirrors_the_edge_pixel_symmetrically()
    {
        var x = Enumerable.Range(1, 16).Select(v => (double)v).ToArray(); // x_j = j
        using var input = Rows(x);
        using var output = MatlabBicubic.Resize(input, 0.5);
        var y = FirstRow(output);
        // Output 1 reads inputs −2..5; MATLAB's symmetric padding maps −2→3, −1→2, 0→1.
        var first = Down2[0] * 3 + Down2[1] * 2 + Down2[2] * 1 + Down2[3] * 1 + Down2[4] * 2 + Down2[5] * 3 + Down2[6] * 4 + Down2[7] * 5;
        // Output 8 reads inputs 12..19; 17→16, 18→15, 19→14.
        var last = Down2[0] * 12 + Down2[1] * 13 + Down2[2] * 14 + Down2[3] * 15 + Down2[4] * 16 + Down2[5] * 16 + Down2[6] * 15 + Down2[7] * 14;
        Assert.Equal(first, y[0], 5);
        Assert.Equal(last, y[7], 5);
        // Output 2 reads input 0, which mirrors to 1: one weight sees 1 instead of 0.
        Assert.Equal(3.5 + Down2[0], y[1], 5);
        // Away from the edges a ramp is reproduced exactly: output i sits at input position 2i − 0.5.
        for (var i = 3; i <= 6; i++)
        {
            Assert.Equal(2 * i - 0.5, y[i - 1], 5);
        }
    }

    [Fact]
    public void Upscale_by_2_uses_the_keys_weights_at_quarter_offsets()
    {
        var rng = new Random(7);
        var x = Enumerable.Range(0, 12).Select(_ => rng.NextDouble()).ToArray();
        using var input = Rows(x);
        using var output = MatlabBicubic.Resize(input, 2.0);
        Assert.Equal(24, output.shape[3]);
        var y = FirstRow(output);
        // Output 2m sits at input m + 0.25: neighbours m−1, m, m+1, m+2 at distances 1.25, 0.25, 0.75, 1.75.
        for (var m = 2; m <= 10; m++)
        {
            var even = -0.0703125 * x[m - 2] + 0.8671875 * x[m - 1] + 0.2265625 * x[m] - 0.0234375 * x[m + 1];
            Assert.Equal(even, y[2 * m - 1], 5);
            // Output 2m+1 sits at m + 0.75.
            var odd = -0.0234375 * x[m - 2] + 0.2265625 * x[m - 1] + 0.8671875 * x[m] - 0.0703125 * x[m + 1];
            Assert.Equal(odd, y[2 * m], 5);
        }
    }

    [Theory]
    [InlineData(0.5, 16, 12)]
    [InlineData(0.25, 16, 24)]
    [InlineData(1.0 / 3, 15, 12)]
    [InlineData(0.125, 32, 40)]
    [InlineData(0.7, 13, 17)]
    [InlineData(0.37, 19, 11)]
    [InlineData(1.5, 7, 9)]
    [InlineData(3.0, 5, 6)]
    [InlineData(2.0, 6, 5)]
    [InlineData(4.0, 3, 4)]
    [InlineData(8.0, 2, 3)]
    [InlineData(2.5, 4, 3)]
    public void Matches_an_independent_float64_reference_including_edges(double scale, int h, int w)
    {
        var rng = new Random(h * 100 + w);
        var img = new double[2][,];
        var data = new float[2 * h * w];
        for (var c = 0; c < 2; c++)
        {
            img[c] = new double[h, w];
            for (var r = 0; r < h; r++)
            {
                for (var q = 0; q < w; q++)
                {
                    var v = (float)rng.NextDouble();
                    img[c][r, q] = v;
                    data[(c * h + r) * w + q] = v;
                }
            }
        }
        using var input = torch.tensor(data, [2, h, w]);
        using var output = MatlabBicubic.Resize(input, scale);
        int outH = (int)Math.Ceiling(h * scale - 1e-9), outW = (int)Math.Ceiling(w * scale - 1e-9);
        Assert.Equal(new long[] { 2, outH, outW }, output.shape);
        var actual = output.to(ScalarType.Float64).data<double>().ToArray();
        for (var c = 0; c < 2; c++)
        {
            var expected = MatlabReference.Resize2D(img[c], outH, outW, scale, scale, MatlabReference.Cubic, 2);
            for (var r = 0; r < outH; r++)
            {
                for (var q = 0; q < outW; q++)
                {
                    Assert.True(Math.Abs(expected[r, q] - actual[(c * outH + r) * outW + q]) < 2e-6,
                        $"c={c} r={r} q={q}: expected {expected[r, q]}, got {actual[(c * outH + r) * outW + q]}");
                }
            }
        }
    }

    [Fact]
    public void Output_is_not_clamped_and_keeps_overshoot()
    {
        // A step edge overshoots with the negative lobes of the cubic kernel.
        var x = Enumerable.Range(0, 16).Select(i => i < 8 ? 0.0 : 1.0).ToArray();
        using var input = Rows(x);
        using var output = MatlabBicubic.Resize(input, 2.0);
        Assert.True(output.max().item<float>() > 1.0f);
        Assert.True(output.min().item<float>() < 0.0f);
    }

    [Fact]
    public void Batches_keep_images_independent_and_constants_constant()
    {
        var g = new Generator(3, torch.CPU);
        using var batch = torch.rand([3, 3, 24, 20], generator: g);
        batch[1].fill_(0.25f);
        using var output = MatlabBicubic.Resize(batch, 0.25);
        Assert.Equal(new long[] { 3, 3, 6, 5 }, output.shape);
        using var single = MatlabBicubic.Resize(batch[2], 0.25);
        Assert.True(output[2].allclose(single, rtol: 0, atol: 1e-6));
        Assert.True(output[1].sub(0.25f).abs().max().item<float>() < 1e-6f);
    }

    [Fact]
    public void Dense_and_tap_evaluation_agree()
    {
        var g = new Generator(5, torch.CPU);
        using var x = torch.rand([1, 3, 37, 29], generator: g);
        foreach (var scale in new[] { 0.25, 0.6, 1.7 })
        {
            int oh = (int)Math.Ceiling(37 * scale), ow = (int)Math.Ceiling(29 * scale);
            using var dense = MatlabResize.Resize(x, oh, ow, scale, scale, MatlabKernel.Cubic, true, ResizeEvaluation.Dense);
            using var taps = MatlabResize.Resize(x, oh, ow, scale, scale, MatlabKernel.Cubic, true, ResizeEvaluation.Taps);
            Assert.True(dense.allclose(taps, rtol: 0, atol: 1e-5));
        }
    }

    [Fact]
    public void Strided_views_give_the_same_result_as_contiguous_copies()
    {
        var g = new Generator(13, torch.CPU);
        using var big = torch.rand([2, 3, 40, 36], generator: g);
        using var view = big.narrow(2, 3, 32).transpose(2, 3); // [2,3,36,32], not contiguous
        using var copy = view.contiguous();
        using var a = MatlabBicubic.Resize(view, 0.25);
        using var b = MatlabBicubic.Resize(copy, 0.25);
        Assert.True(a.allclose(b, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Exact_output_size_overload_uses_per_axis_scales()
    {
        var g = new Generator(9, torch.CPU);
        using var x = torch.rand([1, 10, 14], generator: g);
        using var y = MatlabBicubic.Resize(x, 5, 7);
        using var z = MatlabBicubic.Resize(x, 0.5);
        Assert.True(y.allclose(z, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Bad_inputs_get_clear_errors()
    {
        using var ok = torch.rand([1, 3, 8, 8]);
        Assert.Contains("scale", Assert.Throws<DegradationException>(() => MatlabBicubic.Resize(ok, 0)).Message);
        Assert.Contains("scale", Assert.Throws<DegradationException>(() => MatlabBicubic.Resize(ok, double.NaN)).Message);
        using var flat = torch.rand([8, 8]);
        Assert.Contains("[C,H,W]", Assert.Throws<DegradationException>(() => MatlabBicubic.Resize(flat, 0.5)).Message);
        using var dbl = torch.rand([1, 3, 8, 8], dtype: ScalarType.Float64);
        Assert.Contains("float32", Assert.Throws<DegradationException>(() => MatlabBicubic.Resize(dbl, 0.5)).Message);
        using var nan = torch.full([1, 3, 8, 8], float.NaN);
        Assert.Contains("NaN", Assert.Throws<DegradationException>(() => MatlabBicubic.Resize(nan, 0.5)).Message);
        Assert.Contains("between 1 and", Assert.Throws<DegradationException>(() => MatlabBicubic.Resize(ok, 1e6)).Message);
    }

    [Fact]
    public void Output_length_ignores_floating_point_dust()
    {
        Assert.Equal(3, MatlabResize.OutputLength(30, 0.1)); // 0.1·30 = 3.0000000000000004 in doubles
        Assert.Equal(4, MatlabResize.OutputLength(12, 1.0 / 3));
        Assert.Equal(10, MatlabResize.OutputLength(13, 0.7)); // ceil(9.1)
    }
}
