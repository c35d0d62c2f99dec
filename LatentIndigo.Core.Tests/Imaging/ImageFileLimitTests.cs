using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using Xunit;

namespace LatentIndigo.Tests.Imaging;

/// <summary>File-level limits: size in bytes, folders and devices, and pixel limits read from the header before decoding.</summary>
public class ImageFileLimitTests
{
    [Fact]
    public void File_over_the_byte_limit_is_refused_before_reading()
    {
        var path = TestData.Cc0("chelsea.png");
        long size = new FileInfo(path).Length;
        var ex = Assert.Throws<ImageFileTooLargeException>(() => ImageIO.Load(path, new ImageLoadOptions { MaxFileBytes = size - 1 }));
        Assert.Contains("chelsea.png", ex.Message);
        Assert.Contains("MaxFileBytes", ex.Message);
        using var loaded = ImageIO.Load(path, new ImageLoadOptions { MaxFileBytes = size });
        Assert.Equal(4, loaded.dim());
    }

    [Fact]
    public void Stream_over_the_byte_limit_is_refused()
    {
        using var stream = File.OpenRead(TestData.Cc0("chelsea.png"));
        Assert.Throws<ImageFileTooLargeException>(() => ImageIO.Load(stream, "chelsea stream", new ImageLoadOptions { MaxFileBytes = 1000 }));
    }

    [Fact]
    public void Folder_and_device_are_not_image_files()
    {
        using var folder = TestData.NewTempFolder();
        var ex = Assert.Throws<NotAnImageFileException>(() => ImageIO.Load(folder.Path));
        Assert.Contains("a folder", ex.Message);
        if (File.Exists("/dev/zero"))
        {
            Assert.Contains("a device", Assert.Throws<NotAnImageFileException>(() => ImageIO.Identify("/dev/zero")).Message);
        }
    }

    [Fact]
    public void RestoreFile_refuses_an_oversized_image_from_its_header()
    {
        using var folder = TestData.NewTempFolder();
        // Decoding this file would fail as truncated: the size error shows the header was checked first.
        File.WriteAllBytes(folder.File("big.png"), TestPngs.HeaderOnly(5000, 4000));
        using var pipeline = new RestorationPipeline(null, LatentIndigo.Invertible.BundledInn.Load(LatentIndigo.Invertible.BundledInnWeights.BicubicX4));
        var options = RestoreOptions.Default with { Strategy = GuidanceStrategy.InnOnly, ScaleFactor = 1 };
        var ex = Assert.Throws<InvalidRestoreInputException>(() => pipeline.RestoreFile(folder.File("big.png"), folder.File("out.png"), options));
        Assert.Contains("20,000,000", ex.Message);
        Assert.False(File.Exists(folder.File("out.png")));
        Assert.Equal((5000, 4000), RestorationPipeline.CheckInputFile(folder.File("big.png"), options with { MaxOutputPixels = 20_000_000 }));
    }
}
