using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Diffusion.StandIns.StandInExpectations;

namespace LatentIndigo.Tests.Diffusion.Exports;

/// <summary>Issue 13 #7: export forms the stand-ins did not cover before, each loaded and run against its reference.</summary>
public class StandInCoverageTests
{
    [Fact]
    public void Float16Timestep_ReachesTheUnetExactly()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { TimestepForm = StandInTimestepForm.BatchFloat16 });
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.Equal(TensorElementType.Float16, models.Unet.TimestepElementType);
        using var text = RandomNormal(9, 1, 77, 32);
        using var latents = RandomNormal(8, 1, 4, 4, 4);
        // 999 and 7 are exact in float16 (integers up to 2048 are); a timestep that lost bits would be off by ≥ 1e-3.
        foreach (int t in new[] { 999, 7 })
        {
            var eps = models.Unet.PredictNoise(latents, t, text);
            using var expected = UnetOutput(latents, t, text);
            Assert.True(MaxAbsDiff(expected, eps) < 1e-5, $"t={t}: max diff {MaxAbsDiff(expected, eps)}");
        }
    }

    [Fact]
    public void Int64InputIds_AreFedAsInt64()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { TextInputIdsInt64 = true });
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.Equal(TensorElementType.Int64, models.TextEncoder.InputElementType);
        var ids = models.Tokenizer.Encode("a photo of a cat");
        using var expected = TextEmbeddings(ids, 32);
        // Values reach 49407·32·1e-4 ≈ 158: float32 keeps ~1e-7 of that; bound 1e-6 relative.
        double scale = expected.abs().max().item<double>();
        Assert.True(MaxAbsDiff(expected, models.EncodePrompt("a photo of a cat").Conditional) < 1e-6 * scale);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void SymbolicChannels_WithoutConfigs_AreFoundAndRun(int channels)
    {
        // Every declared channel dimension symbolic and no config.json: ONNX Runtime's shape inference still fixes the
        // encoder output's channels (its Conv weights are static), which is where the count comes from.
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { SymbolicChannels = true, OmitModelConfigs = true, LatentChannels = channels });
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.Equal(channels, models.LatentChannels);
        using var image = RandomUniform(10, 1, 3, 16, 16);
        using var latents = models.Vae.Encode(image);
        using var expected = EncodedLatents(image, channels, 0.18215);
        Assert.True(MaxAbsDiff(expected, latents) < 1e-5);
    }

    [Fact]
    public void Sd2TokenizerFiles_PadWithExclamationMarkIdZero()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Sd2Tokenizer = true });
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.Equal(0, models.Tokenizer.PadId);
        var ids = models.Tokenizer.Encode("a cat");
        Assert.Equal(StandInTokenizerFiles.StartOfText, ids[0]);
        int end = Array.IndexOf(ids, StandInTokenizerFiles.EndOfText);
        Assert.True(end > 1);
        Assert.All(ids[(end + 1)..], id => Assert.Equal(0, id));
        // The text encoder sees the zeros: its output rows after the end token are TextEmbedding(0, h).
        using var expected = TextEmbeddings(ids, 32);
        double scale = expected.abs().max().item<double>();
        Assert.True(MaxAbsDiff(expected, models.EncodePrompt("a cat").Conditional) < 1e-6 * scale);
    }
}
