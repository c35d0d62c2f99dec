using LatentIndigo.Imaging;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Imaging;

public class ImageIOTests
{
    private static Tensor RandomImageOnByteGrid(int height, int width, long seed)
    {
        var generator = new Generator((ulong)seed);
        return torch.randint(0, 256, new long[] { 1, 3, height, width }, generator: generator).to(ScalarType.Float32).div(255f);
    }

    [Fact]
    public void Png_round_trip_is_exact_at_8_bits()
    {
        using var folder = TestData.NewTempFolder();
        using var image = RandomImageOnByteGrid(17, 23, 1);
        ImageIO.Save(image, folder.File("a.png"));
        using var back = ImageIO.Load(folder.File("a.png"));
        Assert.Equal(new long[] { 1, 3, 17, 23 }, back.shape);
        Assert.Equal(ScalarType.Float32, back.dtype);
        Assert.Equal(0f, (back - image).abs().max().item<float>());
    }

    [Fact]
    public void Save_quantises_by_rounding_to_the_nearest_level()
    {
        using var folder = TestData.NewTempFolder();
        // 0.5/255 below and above a level: 10.4/255 -> 10, 10.6/255 -> 11, negative -> 0, above one -> 255.
        using var image = torch.tensor(new float[] { 10.4f / 255, 10.6f / 255, -0.3f, 1.7f }).reshape(1, 1, 2, 2).expand(1, 3, 2, 2).contiguous();
        ImageIO.Save(image, folder.File("q.png"));
        using var back = ImageIO.Load(folder.File("q.png"));
        var levels = back[0, 0].flatten().mul(255f).round().data<float>().ToArray();
        Assert.Equal(new float[] { 10, 11, 0, 255 }, levels);
    }

    [Theory]
    [InlineData("a.jpg", 95, 4.0)]
    [InlineData("a.webp", 95, 6.0)]
    public void Lossy_formats_round_trip_closely(string name, int quality, double maxMeanError)
    {
        using var folder = TestData.NewTempFolder();
        using var photo = ImageIO.Load(TestData.Cc0("chelsea.png"));
        ImageIO.Save(photo, folder.File(name), new ImageSaveOptions { Quality = quality });
        using var back = ImageIO.Load(folder.File(name));
        Assert.Equal(photo.shape, back.shape);
        double meanError = (back - photo).abs().mean().item<float>() * 255;
        Assert.InRange(meanError, 0.01, maxMeanError); // lossy, but close
    }

    [Fact]
    public void Loads_from_stream_and_bytes_like_from_path()
    {
        string path = TestData.Cc0("coffee.png");
        using var fromPath = ImageIO.Load(path);
        using var stream = File.OpenRead(path);
        using var fromStream = ImageIO.Load(stream);
        using var fromBytes = ImageIO.Decode(File.ReadAllBytes(path));
        Assert.True(fromPath.equal(fromStream).all().item<bool>());
        Assert.True(fromPath.equal(fromBytes).all().item<bool>());
        Assert.Equal(new long[] { 1, 3, 400, 600 }, fromPath.shape);
    }

    [Fact]
    public void Grayscale_is_replicated_to_three_equal_channels()
    {
        using var camera = ImageIO.Load(TestData.Cc0("camera.png"));
        Assert.Equal(new long[] { 1, 3, 512, 512 }, camera.shape);
        Assert.True(camera[0, 0].equal(camera[0, 1]).all().item<bool>());
        Assert.True(camera[0, 0].equal(camera[0, 2]).all().item<bool>());
        Assert.True(camera.std().item<float>() > 0.05f);
    }

    [Fact]
    public void Handmade_bmp_loads_with_the_right_pixels()
    {
        // A 2×2 24-bit bottom-up BMP written byte by byte: rows padded to 4 bytes, pixels stored as B,G,R.
        var pixelRows = new byte[]
        {
            0, 0, 255, 0, 255, 0, 0, 0,       // bottom row: red, green (+2 pad bytes)
            255, 0, 0, 255, 255, 255, 0, 0,   // top row: blue, white
        };
        var header = new List<byte>();
        header.AddRange("BM"u8.ToArray());
        header.AddRange(BitConverter.GetBytes(54 + pixelRows.Length));
        header.AddRange(new byte[4]);
        header.AddRange(BitConverter.GetBytes(54));
        header.AddRange(BitConverter.GetBytes(40));
        header.AddRange(BitConverter.GetBytes(2));
        header.AddRange(BitConverter.GetBytes(2));
        header.AddRange(BitConverter.GetBytes((short)1));
        header.AddRange(BitConverter.GetBytes((short)24));
        header.AddRange(new byte[24]);
        var bmp = header.Concat(pixelRows).ToArray();
        using var image = ImageIO.Decode(bmp, "handmade.bmp");
        var expected = new float[,,]
        {
            { { 0, 1 }, { 1, 0 } }, // R: top row blue, white; bottom row red, green
            { { 0, 1 }, { 0, 1 } }, // G
            { { 1, 1 }, { 0, 0 } }, // B
        };
        for (int c = 0; c < 3; c++)
        for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++)
        {
            Assert.Equal(expected[c, y, x], image[0, c, y, x].item<float>());
        }
    }

    [Fact]
    public void Alpha_is_dropped_and_colour_kept()
    {
        using var folder = TestData.NewTempFolder();
        using (var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(1, 1, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul)))
        {
            bitmap.SetPixel(0, 0, new SkiaSharp.SKColor(200, 100, 50, 128));
            using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(folder.File("alpha.png"), data.ToArray());
        }
        using var image = ImageIO.Load(folder.File("alpha.png"));
        var rgb = image.flatten().mul(255f).round().data<float>().ToArray();
        Assert.Equal(new float[] { 200, 100, 50 }, rgb);
    }

    [Fact]
    public void Save_refuses_to_overwrite_the_source_and_leaves_it_intact()
    {
        using var folder = TestData.NewTempFolder();
        string source = folder.File("in.png");
        File.Copy(TestData.Cc0("chelsea.png"), source);
        var before = File.ReadAllBytes(source);
        using var image = ImageIO.Load(source);
        var ex = Assert.Throws<ImageOverwriteException>(() => ImageIO.Save(image * 0.5, source, new ImageSaveOptions { SourcePath = source }));
        Assert.Contains("in.png", ex.Message);
        Assert.Equal(before, File.ReadAllBytes(source));
        // Allowed when asked for explicitly.
        ImageIO.Save(image * 0.5, source, new ImageSaveOptions { SourcePath = source, AllowOverwriteSource = true });
        Assert.NotEqual(before, File.ReadAllBytes(source));
    }

    [Fact]
    public void Save_without_overwrite_keeps_the_existing_file()
    {
        using var folder = TestData.NewTempFolder();
        File.WriteAllText(folder.File("x.png"), "keep me");
        using var image = RandomImageOnByteGrid(4, 4, 2);
        Assert.Throws<ImageSaveException>(() => ImageIO.Save(image, folder.File("x.png"), new ImageSaveOptions { Overwrite = false }));
        Assert.Equal("keep me", File.ReadAllText(folder.File("x.png")));
    }

    [Fact]
    public void A_failed_save_leaves_no_partial_or_temporary_file()
    {
        using var folder = TestData.NewTempFolder();
        using var bad = torch.full(new long[] { 1, 3, 4, 4 }, float.NaN);
        Assert.Throws<ArgumentException>(() => ImageIO.Save(bad, folder.File("nan.png")));
        Assert.Throws<ImageSaveException>(() => ImageIO.Save(torch.zeros(1, 3, 4, 4), folder.File("x.tiff")));
        Assert.Throws<ImageSaveException>(() => ImageIO.Save(torch.zeros(1, 3, 4, 4), folder.File("no/such/dir/x.png")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
        ImageIO.Save(torch.zeros(1, 3, 4, 4), folder.File("ok.png"));
        Assert.Equal(new[] { "ok.png" }, Directory.EnumerateFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Save_rejects_wrong_shapes_with_the_shape_in_the_message()
    {
        using var folder = TestData.NewTempFolder();
        var ex = Assert.Throws<ArgumentException>(() => ImageIO.Save(torch.zeros(2, 3, 4, 4), folder.File("x.png")));
        Assert.Contains("[2,3,4,4]", ex.Message);
        Assert.Throws<ArgumentException>(() => ImageIO.Save(torch.zeros(1, 4, 4, 4), folder.File("x.png")));
    }
}
