using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// MATLAB <c>imresize</c> "contributions" for one dimension: for each output pixel, <see cref="Taps"/> input indices
/// (0-based, already mirrored at the edges) and normalised weights. Computed in float64.
/// </summary>
internal sealed class ResizeTaps
{
    private ResizeTaps(int inLength, int outLength, int taps, long[] indices, double[] weights)
    {
        InLength = inLength;
        OutLength = outLength;
        Taps = taps;
        Indices = indices;
        Weights = weights;
    }

    public int InLength { get; }
    public int OutLength { get; }
    public int Taps { get; }

    /// <summary>Row-major [OutLength, Taps] input indices, 0-based.</summary>
    public long[] Indices { get; }

    /// <summary>Row-major [OutLength, Taps] weights; each row sums to 1.</summary>
    public double[] Weights { get; }

    /// <summary>
    /// The contributions for resizing <paramref name="inLength"/> samples to <paramref name="outLength"/> with scale
    /// <paramref name="scale"/> (output/input). When downscaling with antialiasing the kernel is stretched by 1/scale
    /// (and its height scaled by scale), which is what makes MATLAB's downscaling a proper low-pass.
    /// </summary>
    public static ResizeTaps Compute(int inLength, int outLength, double scale, MatlabKernel kernel, bool antialias)
    {
        var stretch = antialias && scale < 1;
        var width = MatlabKernels.Width(kernel) / (stretch ? scale : 1);
        var taps = (int)Math.Ceiling(width) + 2;
        var indices = new long[outLength * taps];
        var weights = new double[outLength * taps];
        for (var i = 0; i < outLength; i++)
        {
            // MATLAB works 1-based: output pixel x maps to input coordinate u (pixel centres aligned).
            double x = i + 1;
            var u = x / scale + 0.5 * (1 - 1 / scale);
            var left = (long)Math.Floor(u - width / 2);
            var sum = 0.0;
            for (var p = 0; p < taps; p++)
            {
                var j = left + p;
                var d = u - j;
                var w = stretch ? scale * MatlabKernels.Evaluate(kernel, scale * d) : MatlabKernels.Evaluate(kernel, d);
                weights[i * taps + p] = w;
                indices[i * taps + p] = Mirror(j, inLength);
                sum += w;
            }
            for (var p = 0; p < taps; p++)
            {
                weights[i * taps + p] /= sum;
            }
        }
        return new ResizeTaps(inLength, outLength, taps, indices, weights);
    }

    /// <summary>
    /// MATLAB's symmetric edge handling: a 1-based index j outside 1..n reads the sequence 1..n,n..1 periodically
    /// (the edge pixel repeats). Returns a 0-based index.
    /// </summary>
    public static long Mirror(long j, int n)
    {
        long period = 2L * n;
        var k = ((j - 1) % period + period) % period;
        return k < n ? k : period - 1 - k;
    }

    /// <summary>
    /// The weights of outputs [<paramref name="first"/>, <paramref name="first"/>+<paramref name="count"/>) as a dense
    /// float32 matrix over the input range they read, [count, span], with mirrored taps summed. Returns the first
    /// input index of that range.
    /// </summary>
    public (Tensor Matrix, int InputStart) DenseBlock(int first, int count, Device device)
    {
        long lo = long.MaxValue, hi = long.MinValue;
        for (var k = first * Taps; k < (first + count) * Taps; k++)
        {
            if (Weights[k] != 0)
            {
                lo = Math.Min(lo, Indices[k]);
                hi = Math.Max(hi, Indices[k]);
            }
        }
        var span = (int)(hi - lo + 1);
        var dense = new double[count * span];
        for (var i = 0; i < count; i++)
        {
            for (var p = 0; p < Taps; p++)
            {
                var k = (first + i) * Taps + p;
                if (Weights[k] != 0)
                {
                    dense[i * span + (int)(Indices[k] - lo)] += Weights[k];
                }
            }
        }
        var matrix = torch.tensor(dense.Select(v => (float)v).ToArray(), [count, span], ScalarType.Float32).to(device);
        return (matrix, (int)lo);
    }
}
