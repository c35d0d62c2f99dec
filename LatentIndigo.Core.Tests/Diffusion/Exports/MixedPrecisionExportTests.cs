using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Diffusion.StandIns.StandInExpectations;

namespace LatentIndigo.Tests.Diffusion.Exports;

/// <summary>Issue 13 #6: ORT-optimised fp16 folders: mixed precision (fp16 UNet, fp32 vae_decoder) and CUDA-only fused ops.</summary>
public class MixedPrecisionExportTests
{
    [Fact]
    public void Fp16UnetWithFp32Decoder_LoadsRunsAndSaysItIsMixed()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Float16 = true, Float32VaeDecoder = true });
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.Equal(ModelPrecision.Float16, models.Precision);
        Assert.Equal(TensorElementType.Float16, models.Unet.SampleElementType);
        Assert.Equal(TensorElementType.Float16, models.VaeEncoder.InputElementType);
        Assert.Equal(TensorElementType.Float, models.VaeDecoder.InputElementType);
        var note = Assert.Single(models.LoadNotes, n => n.StartsWith("Mixed precision folder", StringComparison.Ordinal));
        Assert.Contains("unet float16", note);
        Assert.Contains("vae_decoder float32", note);

        // The whole chain runs: encode (fp16) → UNet (fp16) → decode (fp32), against the float64 references.
        using var image = RandomUniform(7, 1, 3, 16, 16);
        using var latents = models.Vae.Encode(image);
        using var expectedLatents = EncodedLatents(image, 4, 0.18215);
        // fp16 I/O: latents of magnitude ≤ 0.4 round by ≤ 2e-4 each way; measured 1.5e-5, bound 1e-3.
        Assert.True(MaxAbsDiff(expectedLatents, latents) < 1e-3, $"encode diff {MaxAbsDiff(expectedLatents, latents)}");
        using var text = RandomNormal(9, 1, 77, 32);
        var eps = models.Unet.PredictNoise(latents, 10, text);
        using var expectedEps = UnetOutput(latents, 10, text);
        // Outputs below 1 in magnitude: fp16 input and output rounding ≤ 2·2⁻¹¹ ≈ 1e-3; bound 2e-3.
        Assert.True(MaxAbsDiff(expectedEps, eps) < 2e-3, $"unet diff {MaxAbsDiff(expectedEps, eps)}");
        using var decoded = models.Vae.Decode(latents);
        using var blockAverage = torch.nn.functional.interpolate(torch.nn.functional.avg_pool2d(image, 8, 8), scale_factor: [8.0, 8.0], mode: torch.InterpolationMode.Nearest);
        Assert.True(MaxAbsDiff(blockAverage, decoded) < 5e-3, $"decode diff {MaxAbsDiff(blockAverage, decoded)}");
    }

    [Fact]
    public void CudaOnlyFusedOps_OnTheCpu_AreNamedAsAnOptimisedExport()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Float16 = true, CudaOnlyFusedOp = true });
        var e = Assert.Throws<ModelFolderException>(() => StableDiffusionModels.Load(folder.Path));
        var problem = Assert.Single(e.Problems);
        Assert.StartsWith("unet/model.onnx uses an operator that ONNX Runtime's Cpu provider does not implement", problem, StringComparison.Ordinal);
        Assert.Contains("com.microsoft fused operators", problem);
        Assert.Contains("BiasSplitGelu", problem);
    }
}
