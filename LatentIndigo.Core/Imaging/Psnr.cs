using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Imaging;

/// <summary>
/// The library's one PSNR: 10·log10(peak² / MSE) with the squared error averaged in float64 on the CPU (float32 sums
/// over megapixel images lose digits that matter above 50 dB). +∞ for identical tensors.
/// </summary>
internal static class Psnr
{
    public static double Of(Tensor a, Tensor b, double peak = 1.0)
    {
        using var scope = torch.NewDisposeScope();
        double mse = (a.detach().to(DeviceType.CPU).to(ScalarType.Float64) - b.detach().to(DeviceType.CPU).to(ScalarType.Float64))
            .square().mean().item<double>();
        return mse <= 0 ? double.PositiveInfinity : 10 * Math.Log10(peak * peak / mse);
    }
}
