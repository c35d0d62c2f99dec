using LatentIndigo.Diffusion;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using Xunit;

namespace LatentIndigo.Tests.Pipeline;

/// <summary>Every options record checks itself where it is used, naming all its problems at once and touching nothing first.</summary>
public class OptionsValidationTests
{
    [Fact]
    public void Pipeline_options_list_their_own_and_their_model_options_problems_before_loading()
    {
        var options = new RestorationPipelineOptions { MaxConcurrentRestores = 0, Models = new DiffusionModelOptions { CudaDeviceId = -2 } };
        var ex = Assert.Throws<LatentIndigoException>(() => RestorationPipeline.Load("/no/such/models", options));
        Assert.Contains("MaxConcurrentRestores = 0", ex.Message);
        Assert.Contains("CudaDeviceId = -2", ex.Message);
        new RestorationPipelineOptions().Validate();
    }

    [Fact]
    public void Image_options_are_checked_before_reading_or_writing()
    {
        using var folder = TestData.NewTempFolder();
        var output = folder.File("x.png");
        using var image = TorchSharp.torch.rand(1, 3, 8, 8);
        var save = Assert.Throws<LatentIndigoException>(() => ImageIO.Save(image, output, new ImageSaveOptions { Quality = 0 }));
        Assert.Contains("Quality = 0", save.Message);
        Assert.False(File.Exists(output));
        var load = Assert.Throws<LatentIndigoException>(() => ImageIO.Load("/no/such/image.png", new ImageLoadOptions { MaxPixels = 0, MaxFileBytes = -1 }));
        Assert.Contains("MaxPixels = 0", load.Message);
        Assert.Contains("MaxFileBytes = -1", load.Message);
        ImageLoadOptions.Default.Validate();
        ImageSaveOptions.Default.Validate();
    }
}
