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
        return (int)length;
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
    /// Dense matmul wins while the input line is short (its cost grows with the input length, the taps' with the number
    /// of taps and the per-op overhead); measured in the Degradations benchmark.
    /// </summary>
    public static ResizeEvaluation ChooseEvaluation(ResizeTaps taps) =>
        taps.InLength <= 1024 ? ResizeEvaluation.Dense : ResizeEvaluation.Taps;

    private static Tensor Pass(Tensor x, int dim, ResizeTaps taps, ResizeEvaluation evaluation)
    {
        if (evaluation == ResizeEvaluation.Auto)
        {
            evaluation = ChooseEvaluation(taps);
        }
        var device = x.device;
        if (evaluation == ResizeEvaluation.Dense)
        {
            var matrix = taps.DenseMatrix(device);
            return dim == 2 ? torch.matmul(matrix, x) : torch.matmul(x, matrix.t());
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
            weight = dim == 2 ? weight.view(count, 1) : weight.view(count);
            var term = x.index_select(dim, index).mul_(weight);
            acc = acc is null ? term : acc.add_(term);
        }
        return acc!;
    }
}
