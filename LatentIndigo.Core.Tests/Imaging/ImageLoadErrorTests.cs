using LatentIndigo.Imaging;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Imaging;

/// <summary>Every bad-input case gives its own exception type naming the source and the reason.</summary>
public class ImageLoadErrorTests
{
    [Fact]
    public void Missing_file()
    {
        var ex = Assert.Throws<ImageNotFoundException>(() => ImageIO.Load("/nonexistent/photo.png"));
        Assert.Contains("/nonexistent/photo.png", ex.Message);
        Assert.Contains("does not exist", ex.Message);
    }

    [Fact]
    public void Empty_file()
    {
        using var folder = TestData.NewTempFolder();
        File.WriteAllBytes(folder.File("empty.jpg"), Array.Empty<byte>());
        var ex = Assert.Throws<EmptyImageException>(() => ImageIO.Load(folder.File("empty.jpg")));
        Assert.Contains("empty.jpg", ex.Message);
    }

    [Theory]
    [InlineData("chelsea.png", 0.5)]
    [InlineData("rocket.jpg", 0.5)]
    [InlineData("chelsea.png", 0.02)]
    public void Truncated_data_is_corrupt(string name, double keep)
    {
        var bytes = File.ReadAllBytes(TestData.Cc0(name));
        var truncated = bytes.AsSpan(0, (int)(bytes.Length * keep)).ToArray();
        var ex = Assert.Throws<CorruptImageException>(() => ImageIO.Decode(truncated, "cut-" + name));
        Assert.Contains("cut-" + name, ex.Message);
    }

    [Fact]
    public void Damaged_png_body_is_corrupt()
    {
        var bytes = File.ReadAllBytes(TestData.Cc0("chelsea.png"));
        var damaged = (byte[])bytes.Clone();
        for (int i = 200; i < damaged.Length - 100; i += 7)
        {
            damaged[i] ^= 0x5A;
        }
        Assert.Throws<CorruptImageException>(() => ImageIO.Decode(damaged, "damaged.png"));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a', 1, 0, 1, 0 }, "GIF")]
    [InlineData(new byte[] { (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0 }, "TIFF")]
    [InlineData(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', (byte)' ', (byte)'w' }, "not a recognised image")]
    public void Unsupported_formats_say_what_they_are(byte[] data, string expected)
    {
        var ex = Assert.Throws<UnsupportedImageFormatException>(() => ImageIO.Decode(data, "file.bin"));
        Assert.Contains(expected, ex.Message);
        Assert.Contains("PNG, JPEG, WebP, BMP", ex.Message);
    }

    [Fact]
    public void Zero_size_png_header()
    {
        // A real PNG with its IHDR width set to 0 (the CRC no longer matters: the size is checked first).
        var bytes = File.ReadAllBytes(TestData.Cc0("chelsea.png"));
        var zero = (byte[])bytes.Clone();
        zero[16] = zero[17] = zero[18] = zero[19] = 0;
        var ex = Assert.Throws<ZeroSizeImageException>(() => ImageIO.Decode(zero, "zero.png"));
        Assert.Contains("zero size", ex.Message);
    }

    [Fact]
    public void Over_the_pixel_limit()
    {
        var ex = Assert.Throws<ImageTooLargeException>(() =>
            ImageIO.Load(TestData.Cc0("chelsea.png"), new ImageLoadOptions { MaxPixels = 100_000 }));
        Assert.Contains("451×300", ex.Message);
        Assert.Contains("MaxPixels", ex.Message);
        Assert.Equal(64_000_000, ImageLoadOptions.Default.MaxPixels);
    }

    [Fact]
    public void All_load_errors_share_one_base_type()
    {
        Assert.ThrowsAny<ImageLoadException>(() => ImageIO.Decode(new byte[] { 1, 2, 3 }));
        Assert.ThrowsAny<LatentIndigoException>(() => ImageIO.Load("/nonexistent.png"));
        using var ok = ImageIO.Load(TestData.Cc0("rocket.jpg"));
        Assert.Equal(new long[] { 1, 3, 427, 640 }, ok.shape);
    }
}
