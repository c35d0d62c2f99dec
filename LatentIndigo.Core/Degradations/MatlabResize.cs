using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>How a 1-D resize pass is evaluated: both give the same numbers up to float32 rounding.</summary>
internal enum ResizeEvaluation
{
    /// <summary>Pick per pass from the sizes (see <see cref="MatlabResize.ChooseEvaluation"/>).</summary>
    Auto,

    /// <summary>One gather-multiply-add per tap: cost proportional to the taps, memory about twice the output.</summary>
    Taps,

    /// <summary>A dense [out, in] weight matrix and one matmul: cost proportional to the input length, BLAS-fast.</summary>
    Dense,
}

/// <summary>
/// MATLAB <c>imresize</c> on 4-D float32 tensors: two separable 1-D passes (height, then width), each applying the
/// <see cref="ResizeTaps"/> contributions. Output is not clamped or rounded.
/// </summary>
internal static class MatlabResize
{
    /// <summary>Output length MATLAB gives for a scale: ceil(scale·n), ignoring floating-point dust (0.1·30 → 3).</summary>
    public static int OutputLength(long inLength, double scale)
    {
        var exact = scale * inLength;
        var nearest = Math.Round(exact);
        var length = Math.Abs(exact - nearest) < 1e-9 * Math.Max(1, nearest) ? nearest : Math.Ceiling(exact);
        return (int)Math.Min(length, int.MaxValue);
    }

    public static Tensor Resize(Tensor x, int outH, int outW, double scaleH, double scaleW, MatlabKernel kernel,
        bool antialias, ResizeEvaluation evaluation = ResizeEvaluation.Auto)
    {
        using var scope = torch.NewDisposeScope();
        var h = (int)x.shape[2];
        var w = (int)x.shape[3];
        var result = x;
        if (outH != h || scaleH != 1)
        {
            result = Pass(result, 2, ResizeTaps.Compute(h, outH, scaleH, kernel, antialias), evaluation);
        }
        if (outW != w || scaleW != 1)
        {
            result = Pass(result, 3, ResizeTaps.Compute(w, outW, scaleW, kernel, antialias), evaluation);
        }
        if (ReferenceEquals(result, x))
        {
            result = x.clone();
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Banded dense matmul is the default: it is BLAS-fast and, unlike per-tap gathers (many small ops), it does not
    /// suffer from thread contention on small machines (see the MatlabResize benchmark).
    /// </summary>
    public static ResizeEvaluation ChooseEvaluation(ResizeTaps taps) => ResizeEvaluation.Dense;

    /// <summary>Input span each dense block aims at: big enough for efficient GEMMs, small enough to skip the zeros.</summary>
    private const int BlockSpan = 256;

    private static Tensor Pass(Tensor x, int dim, ResizeTaps taps, ResizeEvaluation evaluation)
    {
        if (evaluation == ResizeEvaluation.Auto)
        {
            evaluation = ChooseEvaluation(taps);
        }
        var device = x.device;
        if (evaluation == ResizeEvaluation.Dense)
        {
            // The weight matrix is banded: split the outputs into blocks that each read about BlockSpan inputs.
            var scale = (double)taps.OutLength / taps.InLength;
            var block = Math.Max(8, (int)(BlockSpan * scale));
            var parts = new List<Tensor>();
            for (var first = 0; first < taps.OutLength; first += block)
            {
                var rows = Math.Min(block, taps.OutLength - first);
                var (matrix, start) = taps.DenseBlock(first, rows, device);
                var span = (int)matrix.shape[1];
                var input = x.narrow(dim, start, span);
                parts.Add(dim == 2 ? torch.matmul(matrix, input) : torch.matmul(input, matrix.t()));
            }
            return parts.Count == 1 ? parts[0] : torch.cat(parts, dim);
        }

        if (dim == 3)
        {
            // Gathering whole rows is much faster than gathering scattered columns: resize the transposed image.
            return Pass(x.transpose(2, 3).contiguous(), 2, taps, evaluation).transpose(2, 3).contiguous();
        }

        // Tap-major copies so that tap p is one contiguous index vector and one weight vector.
        var count = taps.OutLength;
        Tensor? acc = null;
        for (var p = 0; p < taps.Taps; p++)
        {
            var idx = new long[count];
            var wts = new float[count];
            for (var i = 0; i < count; i++)
            {
                idx[i] = taps.Indices[i * taps.Taps + p];
                wts[i] = (float)taps.Weights[i * taps.Taps + p];
            }
            var index = torch.tensor(idx).to(device);
            var weight = torch.tensor(wts).to(device);
            var term = x.index_select(2, index).mul_(weight.view(count, 1));
            acc = acc is null ? term : acc.add_(term);
        }
        return acc!;
    }
}
