using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Diffusion.StandIns.StandInExpectations;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Diffusion.Models;

public class UnetBindingTests
{
    [Theory]
    [InlineData(false, StandInTimestepForm.BatchInt64, 4, 1)]
    [InlineData(false, StandInTimestepForm.ScalarFloat32, 3, 1)]
    [InlineData(true, StandInTimestepForm.BatchFloat32, 4, 2)]
    [InlineData(true, StandInTimestepForm.ScalarInt64, 6, 1)]
    public void PredictNoise_MatchesTheStandInFormula(bool fp16, StandInTimestepForm form, int channels, int batch)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Float16 = fp16, TimestepForm = form, LatentChannels = channels });
        using var models = StableDiffusionModels.Load(folder.Path);
        using var latents = RandomNormal(1, batch, channels, 8, 6);
        using var states = RandomNormal(2, batch, 77, 32);
        foreach (var t in new[] { 981, 1 })
        {
            var output = models.Unet.PredictNoise(latents, t, states);
            Assert.Equal(ScalarType.Float32, output.dtype);
            using var expected = UnetOutput(latents, t, states);
            Assert.True(MaxAbsDiff(expected, output) < (fp16 ? 5e-3 : 1e-5), $"t={t}: max diff {MaxAbsDiff(expected, output)}");
        }
    }

    [Fact]
    public void OnnxRuntimeWritesIntoTheVeryTorchSharpStorage()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        using var models = StableDiffusionModels.Load(folder.Path);
        using var latents = RandomNormal(3, 1, 4, 8, 8);
        using var states = RandomNormal(4, 1, 77, 32);
        var first = models.Unet.PredictNoise(latents, 500, states);
        // The address ONNX Runtime reports for its bound output is the TorchSharp tensor's storage (+ offset).
        var ortValue = models.Unet.OutputValue(1, 8, 8, 77, 32);
        IntPtr ortAddress;
        unsafe
        {
            fixed (byte* p = ortValue.GetTensorMutableRawData())
            {
                ortAddress = (IntPtr)p;
            }
        }
        IntPtr storageAddress = (IntPtr)((long)first.storage<float>().data_ptr() + first.storage_offset() * first.ElementSize);
        Assert.Equal(storageAddress, ortAddress);
        Assert.Equal(models.Unet.OutputAddress(1, 8, 8, 77, 32), ortAddress);

        // Poison the TorchSharp buffer; the next run must overwrite it in place (same tensor, same memory).
        first.fill_(float.NaN);
        var second = models.Unet.PredictNoise(latents, 20, states);
        Assert.Same(first, second);
        using var expected = UnetOutput(latents, 20, states);
        Assert.True(MaxAbsDiff(expected, second) < 1e-5);
    }

    [Fact]
    public void BoundInputBuffer_WrittenInPlace_IsReadWithoutCopy()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        using var models = StableDiffusionModels.Load(folder.Path);
        using var states = RandomNormal(5, 1, 77, 32);
        var input = models.Unet.GetInputBuffer(1, 8, 8, 77, 32)!;
        using var values = RandomNormal(6, 1, 4, 8, 8);
        input.copy_(values);
        var out1 = models.Unet.PredictNoise(input, 100, states);
        using (var e1 = UnetOutput(values, 100, states))
        {
            Assert.True(MaxAbsDiff(e1, out1) < 1e-5);
        }
        input.mul_(-2); // an in-place update of the bound input is seen by the next run
        var out2 = models.Unet.PredictNoise(input, 100, states);
        using var e2 = UnetOutput(values * -2, 100, states);
        Assert.True(MaxAbsDiff(e2, out2) < 1e-5);
    }

    [Fact]
    public void BadInputs_AreRejectedClearly()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        using var models = StableDiffusionModels.Load(folder.Path);
        using var states = RandomNormal(7, 1, 77, 32);
        using var wrongChannels = RandomNormal(8, 1, 3, 8, 8);
        Assert.Contains("[batch, 4, height, width]", Assert.Throws<ArgumentException>(() => models.Unet.PredictNoise(wrongChannels, 1, states)).Message);
        using var latents = RandomNormal(9, 1, 4, 8, 8);
        using var wrongStates = RandomNormal(10, 1, 77, 16);
        Assert.Contains("encoder_hidden_states", Assert.Throws<ArgumentException>(() => models.Unet.PredictNoise(latents, 1, wrongStates)).Message);
        var owned = models.Unet.PredictNoise(latents, 1, states);
        owned.Dispose();
        // Detected before ONNX Runtime could write into the freed memory; the next call starts with fresh buffers.
        Assert.Contains("belongs to the model", Assert.Throws<InvalidOperationException>(() => models.Unet.PredictNoise(latents, 1, states)).Message);
        var fresh = models.Unet.PredictNoise(latents, 1, states);
        using var expected = UnetOutput(latents, 1, states);
        Assert.True(MaxAbsDiff(expected, fresh) < 1e-5);
    }
}

public class GaussianDenoiserStandInTests
{
    [Theory]
    [InlineData(StandInTimestepForm.BatchInt64, false)]
    [InlineData(StandInTimestepForm.ScalarFloat32, true)]
    public void PredictsTheExactNoiseForStandardNormalData(StandInTimestepForm form, bool fp16)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions
        {
            UnetBehavior = StandInUnetBehavior.GaussianDenoiser, TimestepForm = form, Float16 = fp16,
        });
        using var models = StableDiffusionModels.Load(folder.Path);
        using var sampler = models.CreateSampler();
        sampler.SetTimesteps(20);
        var alphaBar = LatentIndigo.Tests.Diffusion.Samplers.SamplerTestMath.ScaledLinearAlphasCumprod(1000, 0.00085, 0.012);
        var text = models.EncodePrompt();
        using var x = RandomNormal(11, 1, 4, 8, 8);
        int t = sampler.Timesteps[5];
        var eps = models.Unet.PredictNoise(x, t, text);
        using var expected = x.to_type(ScalarType.Float64) * Math.Sqrt(1 - alphaBar[t]);
        Assert.True(MaxAbsDiff(expected, eps) < (fp16 ? 5e-3 : 1e-6), $"max diff {MaxAbsDiff(expected, eps)}");
        // Tweedie's estimate for N(0, I) data: ẑ0 = √ᾱ_t·x_t.
        using var prediction = sampler.PredictOriginal(eps, t, x);
        using var expectedOriginal = x.to_type(ScalarType.Float64) * Math.Sqrt(alphaBar[t]);
        Assert.True(MaxAbsDiff(expectedOriginal, prediction.PredictedOriginal) < (fp16 ? 5e-3 : 1e-5));
    }
}
