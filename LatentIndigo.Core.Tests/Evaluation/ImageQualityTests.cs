using LatentIndigo.Evaluation;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Evaluation;

public class ImageQualityTests
{
    private const int Width = 32, Height = 28;

    // A deterministic 8-bit pattern and two distortions of it. The expected values were computed once by an independent
    // implementation in plain float64 Python loops (MATLAB Y, border 4, 11×11 Gaussian σ 1.5 with cv2.getGaussianKernel's
    // normalisation, K1 0.01, K2 0.03, L 255, "valid" windows) and are committed as numbers.
    private static int Pattern(int c, int y, int x) => ((x * 7 + y * 13 + c * 50 + (x * y) % 17) * 3) % 256;

    private static int Noisy(int c, int y, int x) => Math.Clamp(Pattern(c, y, x) + (x * 5 + y * 3 + c) % 11 - 5, 0, 255);

    private static int Shifted(int c, int y, int x) => (Pattern(c, y, x) + Pattern(c, y, (x + 1) % Width)) / 2;

    private static Tensor Image(Func<int, int, int, int> value)
    {
        var data = new float[3 * Height * Width];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < Height; y++)
            {
                for (int x = 0; x < Width; x++)
                {
                    data[(c * Height + y) * Width + x] = value(c, y, x) / 255f;
                }
            }
        }
        return torch.tensor(data, new long[] { 1, 3, Height, Width });
    }

    [Theory]
    [InlineData(0, 41.080051647046, 0.997375708017)]
    [InlineData(1, 22.557224224937, 0.808625282605)]
    public void Matches_an_independent_float64_reference(int distortion, double psnr, double ssim)
    {
        using var reference = Image(Pattern);
        using var output = Image(distortion == 0 ? Noisy : Shifted);
        Assert.Equal(psnr, ImageQuality.PsnrY(output, reference, border: 4), 6);
        Assert.Equal(ssim, ImageQuality.SsimY(output, reference, border: 4), 7);
    }

    [Fact]
    public void Identical_images_give_infinite_psnr_and_ssim_one()
    {
        using var image = Image(Pattern);
        Assert.Equal(double.PositiveInfinity, ImageQuality.PsnrY(image, image.clone(), 4));
        Assert.Equal(1.0, ImageQuality.SsimY(image, image.clone(), 4), 12);
        Assert.Equal(double.PositiveInfinity, ImageQuality.PsnrRgb(image, image.clone()));
    }

    [Fact]
    public void Y_is_matlab_rgb2ycbcr_luma()
    {
        using var colours = torch.tensor(new float[] { 0, 1, 1, 0, /* G */ 0, 1, 0, 0, /* B */ 0, 1, 0, 1 }, new long[] { 1, 3, 1, 4 });
        var y = ImageQuality.RgbToY(colours).data<double>().ToArray();
        // black, white, red (R only), blue (B only)
        Assert.Equal(16.0, y[0], 12);
        Assert.Equal(235.0, y[1], 12);
        Assert.Equal(16.0 + 65.481, y[2], 12);
        Assert.Equal(16.0 + 24.966, y[3], 12);
    }

    [Fact]
    public void A_uniform_grey_offset_gives_the_closed_form_psnr()
    {
        using var a = torch.full(1, 3, 20, 20, 100f / 255f);
        using var b = torch.full(1, 3, 20, 20, 110f / 255f);
        double dy = (65.481 + 128.553 + 24.966) * 10 / 255; // the Y difference of a 10-level grey step
        Assert.Equal(20 * Math.Log10(255 / dy), ImageQuality.PsnrY(a, b, 2), 4);
        Assert.Equal(20 * Math.Log10(255.0 / 10), ImageQuality.PsnrRgb(a, b), 4);
    }

    [Fact]
    public void The_border_crop_removes_the_border_from_the_comparison()
    {
        using var a = Image(Pattern);
        using var b = a.clone();
        b.narrow(3, 0, 3).fill_(0f); // the three left columns differ
        Assert.True(double.IsFinite(ImageQuality.PsnrY(b, a, 2)));
        Assert.Equal(double.PositiveInfinity, ImageQuality.PsnrY(b, a, 3));
        Assert.True(ImageQuality.SsimY(b, a, 0) < 1);
        Assert.Equal(1.0, ImageQuality.SsimY(b, a, 3), 12);
    }

    [Fact]
    public void Refuses_different_sizes_and_images_too_small_for_the_window()
    {
        using var a = Image(Pattern);
        Assert.Throws<ArgumentException>(() => ImageQuality.PsnrY(a, a.narrow(3, 0, 30), 0));
        Assert.Throws<ArgumentException>(() => ImageQuality.SsimY(a, a.clone(), 9)); // 14×10 left: less than 11×11
    }
}
