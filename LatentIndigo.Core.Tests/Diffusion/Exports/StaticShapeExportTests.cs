using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using LatentIndigo.Tests.Diffusion.StandIns;
using Microsoft.Extensions.Logging;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Diffusion.StandIns.StandInExpectations;

namespace LatentIndigo.Tests.Diffusion.Exports;

/// <summary>Issue 13 #3: exports with static batch and sizes (Olive fixed-shape, NPU) load, say their constraints, and fail clearly.</summary>
public class StaticShapeExportTests
{
    private static StandInFolder StaticFolder() => StandInModelBuilder.CreateTemporary(new StandInOptions { StaticShape = new StandInStaticShape(1, 8) });

    [Fact]
    public void Load_StatesTheConstraints_AndTilesFollowTheStaticSize()
    {
        using var folder = StaticFolder();
        var log = new ListLogger();
        using var models = StableDiffusionModels.Load(folder.Path, null, log);
        Assert.Equal(8, models.DefaultLatentTileSize);
        var unetNote = Assert.Single(models.LoadNotes, n => n.StartsWith("unet declares static input sizes", StringComparison.Ordinal));
        Assert.Contains("sample [1,4,8,8]", unetNote);
        Assert.Contains("batch 1 exactly (classifier-free guidance runs its unconditional and conditional halves one after the other)", unetNote);
        Assert.Contains("latent tiles of exactly 8×8 (64×64 px)", unetNote);
        Assert.Contains(models.LoadNotes, n => n.StartsWith("vae_decoder declares static input sizes (latent_sample [1,4,8,8])", StringComparison.Ordinal));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith("unet declares static", StringComparison.Ordinal));
    }

    [Fact]
    public void ATimestepOfStaticLengthOne_IsNotAStaticShapeExport()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { TimestepForm = StandInTimestepForm.SingleFloat32 });
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.DoesNotContain(models.LoadNotes, n => n.Contains("static input sizes"));
        Assert.Equal(1, models.Unet.TimestepLength);
        // Batch 2 runs with the one timestep value shared.
        using var text = RandomNormal(9, 1, 77, 32);
        using var latents = RandomNormal(5, 2, 4, 8, 8);
        var eps = models.Unet.PredictNoise(latents, 300, text);
        using var expected = UnetOutput(latents, 300, text.expand(2, -1, -1));
        Assert.True(MaxAbsDiff(expected, eps) < 1e-5);
    }

    [Fact]
    public void UnetAtItsStaticSize_Runs()
    {
        using var folder = StaticFolder();
        using var models = StableDiffusionModels.Load(folder.Path);
        using var text = RandomNormal(9, 1, 77, 32);
        using var latents = RandomNormal(1, 1, 4, 8, 8);
        var eps = models.Unet.PredictNoise(latents, 500, text);
        using var expected = UnetOutput(latents, 500, text);
        Assert.True(MaxAbsDiff(expected, eps) < 1e-5);
    }

    [Fact]
    public void UnetAtAnotherSizeOrBatch_SaysWhatTheExportTakes()
    {
        using var folder = StaticFolder();
        using var models = StableDiffusionModels.Load(folder.Path);
        using var latents = RandomNormal(2, 1, 4, 16, 16);
        var size = Assert.Throws<LatentIndigoException>(() => models.Unet.PredictNoise(latents, 500, models.EncodePrompt()));
        Assert.Contains("latents of 8×8, but this call has 16×16", size.Message);
        Assert.Contains("LatentTileSize", size.Message);

        using var two = RandomNormal(3, 2, 4, 8, 8);
        var batch = Assert.Throws<LatentIndigoException>(() => models.Unet.PredictNoise(two, 500, models.EncodePrompt()));
        Assert.Contains("batch 1, but this call has batch 2", batch.Message);
    }

    [Fact]
    public void ClassifierFreeGuidance_OnAStaticBatchOfOne_RunsTheHalvesOneAfterTheOther()
    {
        using var folder = StaticFolder();
        using var models = StableDiffusionModels.Load(folder.Path);
        var conditioning = models.EncodePrompt("a cat", guidanceScale: 7.5);
        using var latents = RandomNormal(3, 1, 4, 8, 8);
        var guided = models.Unet.PredictNoise(latents, 500, conditioning);
        using var u = UnetOutput(latents, 500, conditioning.Unconditional!);
        using var c = UnetOutput(latents, 500, conditioning.Conditional);
        using var expected = u + (c - u) * 7.5;
        // The text means reach ≈80 (ids near 49407): float32 rounding of ≈1e-5 there, times the scale; bound 1e-6 relative.
        double scale = expected.abs().max().item<double>();
        Assert.True(MaxAbsDiff(expected, guided) < 1e-6 * scale * 7.5, $"max diff {MaxAbsDiff(expected, guided)}");
    }

    [Fact]
    public void OnnxRuntimeFailures_KeepTheWholeMessage()
    {
        using var folder = StaticFolder();
        using var models = StableDiffusionModels.Load(folder.Path);
        // The VAE decoder is not pre-checked: ONNX Runtime rejects the size, and its later lines must survive.
        using var latents = RandomNormal(4, 1, 4, 16, 16);
        var e = Assert.Throws<LatentIndigoException>(() => models.Vae.Decode(latents));
        Assert.Contains("Got: 16 Expected: 8", e.Message);
        Assert.Contains("static input sizes (latent_sample [1,4,8,8])", e.Message);
    }
}
