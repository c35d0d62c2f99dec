using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// Per-channel 2-D filtering with reflect padding, as Real-ESRGAN's <c>filter2D</c>: cross-correlation (the kernel is
/// not flipped; every built-in kernel except motion trajectories is point-symmetric, where it makes no difference).
/// </summary>
internal static class KernelConvolution
{
    /// <summary>Filters every channel of <paramref name="batch"/> [N,C,H,W] with one kernel [k,k] (k odd).</summary>
    public static Tensor Filter(Tensor batch, Tensor kernel, string what)
    {
        var k = (int)kernel.shape[0];
        CheckFits(batch, k, what);
        var c = batch.shape[1];
        var weight = kernel.to(ScalarType.Float32, batch.device).view(1, 1, k, k).expand(c, 1, k, k);
        var pad = k / 2;
        if (pad == 0)
        {
            return batch.mul(weight.reshape(c, 1, 1));
        }
        var padded = torch.nn.functional.pad(batch, [pad, pad, pad, pad], PaddingModes.Reflect);
        return torch.nn.functional.conv2d(padded, weight, groups: c);
    }

    /// <summary>Separable filtering with a 1-D kernel along rows and columns (the outer-product kernel).</summary>
    public static Tensor FilterSeparable(Tensor batch, Tensor kernel1D, string what)
    {
        var k = (int)kernel1D.shape[0];
        CheckFits(batch, k, what);
        var c = batch.shape[1];
        var pad = k / 2;
        var row = kernel1D.to(ScalarType.Float32, batch.device).view(1, 1, 1, k).expand(c, 1, 1, k);
        var col = kernel1D.to(ScalarType.Float32, batch.device).view(1, 1, k, 1).expand(c, 1, k, 1);
        var x = torch.nn.functional.pad(batch, [pad, pad, pad, pad], PaddingModes.Reflect);
        x = torch.nn.functional.conv2d(x, row, groups: c);
        return torch.nn.functional.conv2d(x, col, groups: c);
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
