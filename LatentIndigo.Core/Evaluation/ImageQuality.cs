using LatentIndigo.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Evaluation;

/// <summary>
/// Full-reference image quality as the super-resolution literature reports it (the BasicSR convention): PSNR and SSIM
/// on the luma (Y) channel of MATLAB's <c>rgb2ycbcr</c>, after cropping a border of the scale factor from each side.
/// Computed in float64.
/// </summary>
/// <remarks>
/// <para>Y = 16 + 65.481 R + 128.553 G + 24.966 B with RGB in [0,1], so Y lies in [16,235] on a 0-255 scale, and the peak
/// of PSNR is 255.</para>
/// <para>SSIM: an 11×11 Gaussian window with σ = 1.5 (normalised to sum 1), K1 = 0.01, K2 = 0.03, L = 255, filtered
/// without padding ("valid"), averaged over the map, as BasicSR's <c>calculate_ssim</c>.</para>
/// <para>Give images as saved (on the 1/255 grid) to match published numbers, which are computed on 8-bit files.</para>
/// </remarks>
public static class ImageQuality
{
    internal const int WindowSize = 11;
    private const double WindowSigma = 1.5;

    /// <summary>The MATLAB-compatible luma of an RGB image: <c>[H,W]</c> float64 in [16,235].</summary>
    /// <param name="image">A <c>[1,3,H,W]</c> or <c>[3,H,W]</c> RGB tensor in [0,1].</param>
    public static Tensor RgbToY(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var rgb = ImageTensors.AsSingleImage(image, nameof(image));
        using var scope = torch.NewDisposeScope();
        var d = rgb.detach().to(DeviceType.CPU).to(ScalarType.Float64);
        var y = d[0] * 65.481 + d[1] * 128.553 + d[2] * 24.966 + 16.0;
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>PSNR in dB of the Y channels of two RGB images after cropping <paramref name="border"/> pixels from each side.</summary>
    /// <returns>+∞ for identical Y channels.</returns>
    /// <exception cref="ArgumentException">The sizes differ, or nothing is left after the crop.</exception>
    public static double PsnrY(Tensor output, Tensor reference, int border)
    {
        using var scope = torch.NewDisposeScope();
        var (a, b) = CroppedY(output, reference, border, minimumSide: 1);
        double mse = (a - b).square().mean().item<double>();
        return mse <= 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>SSIM of the Y channels of two RGB images after cropping <paramref name="border"/> pixels from each side.</summary>
    /// <returns>1 for identical Y channels.</returns>
    /// <exception cref="ArgumentException">The sizes differ, or less than 11×11 pixels are left after the crop.</exception>
    public static double SsimY(Tensor output, Tensor reference, int border)
    {
        using var scope = torch.NewDisposeScope();
        var (a, b) = CroppedY(output, reference, border, minimumSide: WindowSize);
        const double c1 = 0.01 * 255 * 0.01 * 255, c2 = 0.03 * 255 * 0.03 * 255;
        var window = GaussianWindow();
        Tensor Filter(Tensor x) => torch.nn.functional.conv2d(x.unsqueeze(0).unsqueeze(0), window).squeeze(0).squeeze(0);
        var muA = Filter(a);
        var muB = Filter(b);
        var muAA = muA * muA;
        var muBB = muB * muB;
        var muAB = muA * muB;
        var sigmaAA = Filter(a * a) - muAA;
        var sigmaBB = Filter(b * b) - muBB;
        var sigmaAB = Filter(a * b) - muAB;
        var map = (2 * muAB + c1) * (2 * sigmaAB + c2) / ((muAA + muBB + c1) * (sigmaAA + sigmaBB + c2));
        return map.mean().item<double>();
    }

    /// <summary>PSNR in dB over all RGB channels with peak 1 (no crop): used for the LR consistency of a restoration.</summary>
    /// <returns>+∞ for identical images.</returns>
    public static double PsnrRgb(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!a.shape.SequenceEqual(b.shape))
        {
            throw new ArgumentException($"The images differ in size: [{string.Join(",", a.shape)}] and [{string.Join(",", b.shape)}].", nameof(b));
        }
        return Imaging.Psnr.Of(a, b);
    }

    /// <summary>Rounds to the 8-bit grid a saved PNG holds (clamped to [0,1]), so scores match the written files.</summary>
    public static Tensor QuantizeTo8Bit(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var scope = torch.NewDisposeScope();
        return image.detach().to(DeviceType.CPU).to(ScalarType.Float32).clamp(0f, 1f).mul(255f).round().div(255f).MoveToOuterDisposeScope();
    }

    private static (Tensor A, Tensor B) CroppedY(Tensor output, Tensor reference, int border, int minimumSide)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentOutOfRangeException.ThrowIfNegative(border);
        var a = RgbToY(output);
        var b = RgbToY(reference);
        if (!a.shape.SequenceEqual(b.shape))
        {
            throw new ArgumentException($"The images differ in size: {a.shape[1]}×{a.shape[0]} and {b.shape[1]}×{b.shape[0]}.", nameof(reference));
        }
        long height = a.shape[0] - 2 * border, width = a.shape[1] - 2 * border;
        if (height < minimumSide || width < minimumSide)
        {
            throw new ArgumentException(
                $"A {a.shape[1]}×{a.shape[0]} image has less than {minimumSide}×{minimumSide} pixels left after a border crop of {border}.", nameof(output));
        }
        return (a.narrow(0, border, height).narrow(1, border, width), b.narrow(0, border, height).narrow(1, border, width));
    }

    private static Tensor GaussianWindow()
    {
        var taps = new double[WindowSize];
        for (int i = 0; i < WindowSize; i++)
        {
            double x = i - WindowSize / 2;
            taps[i] = Math.Exp(-x * x / (2 * WindowSigma * WindowSigma));
        }
        double sum = taps.Sum();
        var kernel = torch.tensor(taps.Select(t => t / sum).ToArray(), ScalarType.Float64);
        return torch.outer(kernel, kernel).reshape(1, 1, WindowSize, WindowSize);
    }
}
