using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using LatentIndigo.Tests.Diffusion.StandIns;
using Microsoft.Extensions.Logging;
using Xunit;

namespace LatentIndigo.Tests.Diffusion.Exports;

/// <summary>Issue 13 #4 and #5: tile size from unet/config.json, the VAE factor, other pipelines refused by name, unreadable optional configs.</summary>
public class ExportDefaultsTests
{
    [Theory]
    [InlineData(96, 96)]   // SD 2.x 768-v
    [InlineData(64, 64)]   // SD 1.x / 2.x base
    public void UnetConfigSampleSize_IsTheDefaultLatentTile(int sampleSize, int expected)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { UnetSampleSize = sampleSize, PredictionType = "v_prediction" });
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.Equal(expected, models.DefaultLatentTileSize);
        Assert.Equal(sampleSize != 64, models.LoadNotes.Any(n => n.Contains($"unet/config.json sample_size: the model was trained at {sampleSize * 8} px")));
    }

    [Fact]
    public void NoUnetConfig_TilesDefaultTo64()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { OmitModelConfigs = true });
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.Equal(64, models.DefaultLatentTileSize);
        Assert.Contains(models.LoadNotes, n => n.Contains("SD's 8 is assumed"));
    }

    [Fact]
    public void VaeWithAnotherDownscaleFactor_IsRefused()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { VaeBlocks = 5 });
        var e = Assert.Throws<ModelFolderException>(() => StableDiffusionModels.Load(folder.Path));
        Assert.Contains(e.Problems, p => p.StartsWith("The VAE downscales by 16 (vae_encoder/config.json block_out_channels has 5 entries", StringComparison.Ordinal));
    }

    [Fact]
    public void StaticVaeSizes_ConfirmTheFactor()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { StaticShape = new StandInStaticShape(1, 8), OmitModelConfigs = true });
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.DoesNotContain(models.LoadNotes, n => n.Contains("is assumed"));
    }

    [Theory]
    [InlineData(StandInPipelineKind.StableDiffusionXL, "model_index.json names ORTStableDiffusionXLPipeline: an SDXL export")]
    [InlineData(StandInPipelineKind.Inpainting, "model_index.json names OnnxStableDiffusionInpaintPipeline: an inpainting export")]
    [InlineData(StandInPipelineKind.LatentConsistency, "model_index.json names ORTLatentConsistencyModelPipeline: a latent consistency model (LCM)")]
    public void OtherPipelines_AreRefusedByName(StandInPipelineKind kind, string expected)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Pipeline = kind });
        var e = Assert.Throws<ModelFolderException>(() => StableDiffusionModels.Load(folder.Path));
        Assert.StartsWith(expected, e.Problems[0], StringComparison.Ordinal);
        // Only the specific reason(s), not the signature mismatches that follow from it.
        Assert.DoesNotContain(e.Problems, p => p.Contains("unexpected input") || p.Contains("disagree"));
    }

    [Theory]
    [InlineData(StandInPipelineKind.StableDiffusionXL, "unet/model.onnx takes text_embeds and time_ids: an SDXL export")]
    [InlineData(StandInPipelineKind.Inpainting, "unet/model.onnx takes 9 input channels for 4 output channels: an inpainting export")]
    [InlineData(StandInPipelineKind.LatentConsistency, "unet/model.onnx takes timestep_cond: a latent consistency model")]
    public void OtherPipelines_AreRecognisedWithoutModelIndex(StandInPipelineKind kind, string expected)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Pipeline = kind, OmitModelConfigs = true });
        File.Delete(Path.Combine(folder.Path, "model_index.json"));
        var e = Assert.Throws<ModelFolderException>(() => StableDiffusionModels.Load(folder.Path));
        Assert.Contains(e.Problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("unet/config.json")]
    [InlineData("model_index.json")]
    public void InvalidOptionalJson_IsAWarning_NotSilence(string file)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { CorruptConfigs = [file] });
        var log = new ListLogger();
        using var models = StableDiffusionModels.Load(folder.Path, null, log);
        var warning = Assert.Single(log.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith(file, StringComparison.Ordinal)).Message;
        Assert.Contains("not valid JSON", warning);
        Assert.Contains("ignored", warning);
        Assert.Contains(models.LoadNotes, n => n == warning);
        // The stand-in banner does not depend on model_index.json being readable.
        Assert.True(models.IsStandIn);
    }

    [Fact]
    public void A_stand_in_folder_is_recognised_by_its_marker_file_alone()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions());
        File.Delete(Path.Combine(folder.Path, "model_index.json"));
        using (var models = StableDiffusionModels.Load(folder.Path))
        {
            Assert.True(models.IsStandIn);
        }
        File.Delete(Path.Combine(folder.Path, "LATENTINDIGO-STAND-IN.txt"));
        using var unmarked = StableDiffusionModels.Load(folder.Path);
        Assert.False(unmarked.IsStandIn);
    }
}
