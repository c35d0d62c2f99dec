using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using LatentIndigo.Tests.Diffusion.StandIns;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Diffusion.StandIns.StandInExpectations;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Diffusion.Architecture;

/// <summary>
/// The tiny SD-architecture stand-ins, exported to ONNX by LatentIndigo.StandIns and run by the library through ONNX
/// Runtime, against the independent float64 TorchSharp implementation (<see cref="SdArchitectureReference"/>).
/// </summary>
public class SdArchitectureStandInTests
{
    private static readonly StandInArchitecture Tiny = StandInArchitecture.Tiny;

    private static double RelativeError(Tensor expected, Tensor actual) =>
        MaxAbsDiff(expected, actual) / expected.abs().max().item<double>();

    [Theory]
    [InlineData(false, StandInTimestepForm.BatchInt64, StandInEncoderOutput.LatentParameters)]
    [InlineData(false, StandInTimestepForm.ScalarFloat32, StandInEncoderOutput.LatentSampleRandom)]
    [InlineData(true, StandInTimestepForm.BatchFloat16, StandInEncoderOutput.LatentParameters)]
    [InlineData(true, StandInTimestepForm.ScalarInt64, StandInEncoderOutput.LatentSample)]
    public void EveryModel_MatchesTheTorchSharpReference(bool fp16, StandInTimestepForm timestep, StandInEncoderOutput encoder)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions
        {
            Architecture = Tiny, Float16 = fp16, TimestepForm = timestep, EncoderOutput = encoder, TextInputIdsInt64 = !fp16,
        });
        using var models = StableDiffusionModels.Load(folder.Path);
        using var scope = torch.NewDisposeScope();
        var reference = new SdArchitectureReference(Tiny);
        // Relative to the largest reference value. fp32: float32 graphs against float64, measured 4.8e-7 (text) to
        // 9.9e-7 (VAE decoder); bound 1e-5. fp16 I/O (inputs and outputs rounded to 11 bits): measured 2.6e-4 to 4.2e-4;
        // bound 2e-3.
        double bound = fp16 ? 2e-3 : 1e-5;

        var ids = models.Tokenizer.Encode("a photo of a cat");
        var text = models.TextEncoder.Encode(ids);
        var expectedText = reference.Text(ids);
        Assert.True(RelativeError(expectedText, text) < bound, $"text: {RelativeError(expectedText, text):E2}");

        var latents = RandomNormal(21, 2, 4, 8, 8);
        var states = RandomNormal(22, 2, 77, 24);
        var eps = models.Unet.PredictNoise(latents, 421, states);
        var expectedEps = reference.Unet(latents.to_type(ScalarType.Float64), 421, states.to_type(ScalarType.Float64));
        Assert.True(RelativeError(expectedEps, eps) < bound, $"unet: {RelativeError(expectedEps, eps):E2}");

        var image = RandomUniform(23, 1, 3, 32, 32) * 2 - 1;
        var mean = models.VaeEncoder.EncodeUnscaled(image);
        var expectedMean = reference.VaeMoments(image.to_type(ScalarType.Float64)).narrow(1, 0, 4);
        Assert.True(RelativeError(expectedMean, mean) < bound, $"vae encoder: {RelativeError(expectedMean, mean):E2}");

        var decoded = models.VaeDecoder.DecodeUnscaled(latents.narrow(0, 0, 1));
        var expectedImage = reference.VaeDecode(latents.narrow(0, 0, 1).to_type(ScalarType.Float64));
        Assert.Equal(new long[] { 1, 3, 64, 64 }, decoded.shape);
        Assert.True(RelativeError(expectedImage, decoded) < bound, $"vae decoder: {RelativeError(expectedImage, decoded):E2}");
    }

    [Fact]
    public void Sd1Style_ConvProjectionsFixedHeadsAndExactGelu_MatchTheReference()
    {
        // The SD 1.x variants of the blocks: 1×1-convolution proj_in/proj_out and a fixed head count in the UNet
        // (Tiny uses SD 2.x's linear projections and head width), and exact GELU in the text encoder.
        var sd1 = Tiny with
        {
            Unet = SdUnetConfig.Tiny with { LinearProjection = false, HeadDim = null, Heads = 2 },
            Text = ClipTextConfig.Tiny with { QuickGelu = false },
            Seed = 5,
        };
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Architecture = sd1 });
        using var models = StableDiffusionModels.Load(folder.Path);
        using var scope = torch.NewDisposeScope();
        var reference = new SdArchitectureReference(sd1);
        var ids = models.Tokenizer.Encode("a cat");
        var text = models.TextEncoder.Encode(ids);
        var expectedText = reference.Text(ids);
        Assert.True(RelativeError(expectedText, text) < 1e-5, $"text: {RelativeError(expectedText, text):E2}");
        var latents = RandomNormal(31, 1, 4, 8, 8);
        var states = RandomNormal(32, 1, 77, 24);
        var eps = models.Unet.PredictNoise(latents, 7, states);
        var expectedEps = reference.Unet(latents.to_type(ScalarType.Float64), 7, states.to_type(ScalarType.Float64));
        Assert.True(RelativeError(expectedEps, eps) < 1e-5, $"unet: {RelativeError(expectedEps, eps):E2}");
    }

    [Fact]
    public void ExternalData_AndTheConfigs_AreWrittenAsAnExportHasThem()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Architecture = Tiny, ExternalData = true });
        foreach (var model in new[] { "unet", "vae_encoder", "vae_decoder", "text_encoder" })
        {
            Assert.True(new FileInfo(Path.Combine(folder.Path, model, "weights.pb")).Length > 0, model);
        }
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.Equal(4, models.LatentChannels);
        Assert.Equal(24, models.HiddenSize);
        Assert.DoesNotContain(models.LoadNotes, n => n.Contains("is assumed")); // block_out_channels states the factor
    }

    [Fact]
    public void RealSizeConfigs_HaveSdsParameterCounts()
    {
        // Parameter counts of the published models: SD 1.5 UNet 859.5 M, SD 2.1 UNet 865.9 M, VAE 83.7 M,
        // CLIP ViT-L text 123.1 M; OpenCLIP ViT-H text up to the penultimate layer 340.4 M (24 layers: 354 M).
        Assert.InRange(SdParameterCount.Unet(SdUnetConfig.Sd15) / 1e6, 859, 860);
        Assert.InRange(SdParameterCount.Unet(SdUnetConfig.Sd21Base) / 1e6, 865, 866);
        Assert.InRange(SdParameterCount.Vae(SdVaeConfig.Sd) / 1e6, 83, 84);
        Assert.InRange(SdParameterCount.Text(ClipTextConfig.Sd15) / 1e6, 123, 124);
    }
}
