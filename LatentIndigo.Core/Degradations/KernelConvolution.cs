using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Per-channel 2-D filtering with reflect padding, as Real-ESRGAN's <c>filter2D</c>: cross-correlation (the kernel is
/// not flipped; every built-in kernel except motion trajectories is point-symmetric, where it makes no difference).
/// </summary>
internal static class KernelConvolution
{
    /// <summary>
    /// Filters every channel of <paramref name="batch"/> [N,C,H,W] with one row-major kernel [k·k] (k odd). Rank-one
    /// kernels (isotropic and axis-aligned Gaussians, axis-aligned motion) run as two 1-D passes: k² → 2k
    /// multiply-adds per pixel, the same result up to float rounding.
    /// </summary>
    public static Tensor Filter(Tensor batch, double[] kernel, string what)
    {
        var k = (int)Math.Round(Math.Sqrt(kernel.Length));
        CheckFits(batch, k, what);
        if (k > 1 && TrySeparate(kernel, k, out var column, out var row))
        {
            return FilterSeparable(batch, torch.tensor(column), torch.tensor(row), what);
        }
        var c = batch.shape[1];
        var weight = KernelMath.ToTensor(kernel).to(ScalarType.Float32, batch.device).view(1, 1, k, k).expand(c, 1, k, k);
        var pad = k / 2;
        if (pad == 0)
        {
            return batch.mul(weight.reshape(c, 1, 1));
        }
        var padded = torch.nn.functional.pad(batch, [pad, pad, pad, pad], PaddingModes.Reflect);
        return torch.nn.functional.conv2d(padded, weight, groups: c);
    }

    /// <summary>
    /// Separable filtering: <paramref name="column"/> [k] along the height, <paramref name="row"/> [k] along the width
    /// (the kernel is their outer product), with reflect padding.
    /// </summary>
    public static Tensor FilterSeparable(Tensor batch, Tensor column, Tensor row, string what)
    {
        var k = (int)row.shape[0];
        CheckFits(batch, k, what);
        var c = batch.shape[1];
        var pad = k / 2;
        var horizontal = row.to(ScalarType.Float32, batch.device).view(1, 1, 1, k).expand(c, 1, 1, k);
        var vertical = column.to(ScalarType.Float32, batch.device).view(1, 1, k, 1).expand(c, 1, k, 1);
        var x = torch.nn.functional.pad(batch, [pad, pad, pad, pad], PaddingModes.Reflect);
        x = torch.nn.functional.conv2d(x, horizontal, groups: c);
        return torch.nn.functional.conv2d(x, vertical, groups: c);
    }

    /// <summary>
    /// Splits a kernel into column ⊗ row when it is rank one: K[i,j] = r_i·c_j / S with r, c its row and column sums
    /// and S its total, exactly when the kernel is an outer product (and S ≠ 0).
    /// </summary>
    internal static bool TrySeparate(double[] kernel, int k, out float[] column, out float[] row)
    {
        column = row = [];
        var rowSums = new double[k];
        var colSums = new double[k];
        double total = 0, largest = 0;
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++)
            {
                var v = kernel[i * k + j];
                rowSums[i] += v;
                colSums[j] += v;
                total += v;
                largest = Math.Max(largest, Math.Abs(v));
            }
        }
        if (Math.Abs(total) < 1e-12 || largest == 0)
        {
            return false;
        }
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++)
            {
                if (Math.Abs(kernel[i * k + j] - rowSums[i] * colSums[j] / total) > 1e-9 * largest)
                {
                    return false;
                }
            }
        }
        column = rowSums.Select(v => (float)v).ToArray();
        row = colSums.Select(v => (float)(v / total)).ToArray();
        return true;
    }

    private static void CheckFits(Tensor batch, int k, string what)
    {
        var pad = k / 2;
        long h = batch.shape[2], w = batch.shape[3];
        if (pad >= h || pad >= w)
        {
            throw new DegradationException(
                $"'{what}': a {k}x{k} kernel needs reflect padding of {pad} pixels, so the image must be larger than {pad}x{pad}; got {w}x{h}.");
        }
    }
}
