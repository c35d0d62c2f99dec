using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using LatentIndigo.Tests.Diffusion.StandIns;
using Microsoft.Extensions.Logging;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Diffusion.StandIns.StandInExpectations;

namespace LatentIndigo.Tests.Diffusion.Exports;

/// <summary>
/// Issue 13 #2: a latent_sample encoder with an unseeded RandomNormalLike (mean + e^(½·logvar)·ε, logvar −4 in the
/// stand-in) runs deterministically by default (posterior mean) and keeps its sampling on request.
/// </summary>
public class EncoderSamplingTests
{
    // The stand-in's noise standard deviation e^(−2), times the scaling factor the library applies.
    private const double NoiseStd = 0.1353352832366127 * 0.18215;

    [Fact]
    public void ByDefault_TheSamplingHeadIsRemoved_AndEncodesAreThePosteriorMean()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { EncoderOutput = StandInEncoderOutput.LatentSampleRandom });
        var log = new ListLogger();
        using var models = StableDiffusionModels.Load(folder.Path, null, log);
        Assert.True(models.VaeEncoder.SamplingRemoved);
        Assert.False(models.VaeEncoder.SamplesNoise);
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("zeroed that noise"));
        Assert.Contains(models.LoadNotes, n => n.Contains("RandomNormalLike"));

        using var image = RandomUniform(5, 1, 3, 32, 32);
        using var first = models.Vae.Encode(image);
        using var second = models.Vae.Encode(image);
        using var mean = EncodedLatents(image, 4, 0.18215);
        Assert.Equal(0, MaxAbsDiff(first, second));
        // fp32 ONNX vs float64 reference of the same linear map: measured 1.2e-8, bound 1e-6.
        Assert.True(MaxAbsDiff(mean, first) < 1e-6, $"max diff {MaxAbsDiff(mean, first)}");
    }

    [Fact]
    public void KeepEncoderSampling_KeepsTheExportsNoise_AndSaysSo()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { EncoderOutput = StandInEncoderOutput.LatentSampleRandom });
        var log = new ListLogger();
        using var models = StableDiffusionModels.Load(folder.Path, new DiffusionModelOptions { KeepEncoderSampling = true }, log);
        Assert.True(models.VaeEncoder.SamplesNoise);
        Assert.False(models.VaeEncoder.SamplingRemoved);
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("kept as requested"));

        using var image = RandomUniform(6, 1, 3, 128, 128);
        using var first = models.Vae.Encode(image);
        using var second = models.Vae.Encode(image);
        using var mean = EncodedLatents(image, 4, 0.18215);
        using var residual = (first.to_type(torch.ScalarType.Float64) - mean);
        // 4×16×16 = 1024 draws: the sample std is within ±10 % of σ with overwhelming probability (σ_std ≈ σ/√2048 ≈ 2 %).
        double std = residual.std().item<double>();
        Assert.InRange(std, 0.9 * NoiseStd, 1.1 * NoiseStd);
        Assert.True(MaxAbsDiff(first, second) > NoiseStd, "two encodes drew the same noise");
    }

    [Fact]
    public void RewrittenEncoder_StillReadsItsExternalDataWeights()
    {
        // The rewritten graph is loaded from memory: its external weights must still come from vae_encoder/.
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions
        {
            EncoderOutput = StandInEncoderOutput.LatentSampleRandom, ExternalData = true, VaeCost = new StandInCost(16, 1),
        });
        Assert.True(File.Exists(Path.Combine(folder.Path, "vae_encoder", "weights.pb")));
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.True(models.VaeEncoder.SamplingRemoved);
        using var image = RandomUniform(11, 1, 3, 32, 32);
        using var first = models.Vae.Encode(image);
        using var second = models.Vae.Encode(image);
        Assert.Equal(0, MaxAbsDiff(first, second));
    }

    [Fact]
    public void EncodersWithoutSamplingHead_AreLoadedAsTheyAre()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { EncoderOutput = StandInEncoderOutput.LatentSample });
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.False(models.VaeEncoder.SamplingRemoved);
        Assert.False(models.VaeEncoder.SamplesNoise);
        Assert.DoesNotContain(models.LoadNotes, n => n.Contains("RandomNormalLike"));
    }
}
