using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Pipeline;

/// <summary>Issue 13 #3 and #4: a restore without a tile size uses the export's (static UNet size, else unet/config.json sample_size).</summary>
public class ExportTileDefaultTests
{
    private static readonly RestoreOptions Fast = RestoreOptions.Default with { Steps = 4, Strength = 0.5 };

    private static RestorationPipeline PipelineFor(StandInOptions options, out StandInFolder folder)
    {
        options.UnetBehavior = StandInUnetBehavior.GaussianDenoiser;
        folder = StandInModelBuilder.CreateTemporary(options);
        var latentInn = LatentIndigo.Tests.Invertible.InnTestHelpers.RandomInn(new LiftingInnOptions { Channels = 4, Offset = 0, Levels = 2 }, seed: 7, scale: 0.577);
        return new RestorationPipeline(StableDiffusionModels.Load(folder.Path), BundledInn.Load(BundledInnWeights.BicubicX4), latentInn);
    }

    [Fact]
    public void UnetConfigSampleSize_SetsTheDefaultTile_AndTheCallerCanOverrideIt()
    {
        using var pipeline = PipelineFor(new StandInOptions { UnetSampleSize = 8 }, out var folder);
        using var _ = folder;
        using var y = torch.rand([1, 3, 32, 32], generator: new torch.Generator(1)); // ×4 → 128² px → 16×16 latents
        using var byExport = pipeline.Restore(y, Fast);
        Assert.Equal(4, byExport.Tiles); // 8×8 tiles, overlap 0 (half of 8 rounded down to a multiple of 8)
        using var byCaller = pipeline.Restore(y, Fast with { LatentTileSize = 16 });
        Assert.Equal(1, byCaller.Tiles);
    }

    [Theory]
    [InlineData(GuidanceStrategy.None)]
    [InlineData(GuidanceStrategy.PixelInn)]
    public void StaticShapeExport_RestoresAtItsSize(GuidanceStrategy strategy)
    {
        using var pipeline = PipelineFor(new StandInOptions { StaticShape = new StandInStaticShape(1, 8) }, out var folder);
        using var _ = folder;
        using var y = torch.rand([1, 3, 32, 32], generator: new torch.Generator(2));
        using var result = pipeline.Restore(y, Fast with { Strategy = strategy, TileBatchSize = 1 });
        Assert.Equal(4, result.Tiles);
        Assert.Equal(new long[] { 1, 3, 128, 128 }, result.Image.shape);
        Assert.True(result.Image.isfinite().all().item<bool>());
    }

    [Fact]
    public void StaticShapeExport_CannotEncodeAnInputSmallerThanItsVaeSize_AndSaysWhy()
    {
        // LatentInn also encodes the low-quality input itself (32 px here); a VAE fixed at 64 px cannot.
        using var pipeline = PipelineFor(new StandInOptions { StaticShape = new StandInStaticShape(1, 8) }, out var folder);
        using var _ = folder;
        using var y = torch.rand([1, 3, 32, 32], generator: new torch.Generator(3));
        var e = Assert.Throws<LatentIndigoException>(() => pipeline.Restore(y, Fast with { Strategy = GuidanceStrategy.LatentInn, TileBatchSize = 1 }));
        Assert.Contains("index: 2 Got: 32 Expected: 64", e.Message);
        Assert.Contains("static input sizes (sample [1,3,64,64])", e.Message);
    }
}
