using LatentIndigo.Diffusion;
using LatentIndigo.Tests.Diffusion.StandIns;
using LatentIndigo.Weights;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Diffusion.StandIns.StandInExpectations;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Diffusion.Import;

/// <summary>
/// Tiny diffusers pipeline folders (SD 1.x- and SD 2.x-shaped, safetensors and .bin, fp32/fp16/bf16 weights) imported
/// with <see cref="StableDiffusionImport"/>, loaded by the library and run through ONNX Runtime against the independent
/// float64 implementation (<see cref="SdArchitectureReference"/>) fed the checkpoint's own values by name.
/// </summary>
public class DiffusersImportTests
{
    private static double RelativeError(Tensor expected, Tensor actual) =>
        MaxAbsDiff(expected, actual) / expected.abs().max().item<double>();

    private static string NewOutput() => Path.Combine(Path.GetTempPath(), "latentindigo-import-" + Guid.NewGuid().ToString("N")[..12]);

    // Runs all four imported models on fixed inputs and checks them against the reference.
    private static void AssertMatchesReference(string export, SdArchitectureReference reference, double bound)
    {
        using var models = StableDiffusionModels.Load(export);
        using var scope = torch.NewDisposeScope();
        Assert.Empty(models.LoadNotes); // what sd-check prints as notes: nothing to warn about
        var ids = models.Tokenizer.Encode("a photo of a cat");
        var text = models.TextEncoder.Encode(ids);
        var expectedText = reference.Text(ids);
        Assert.True(RelativeError(expectedText, text) < bound, $"text: {RelativeError(expectedText, text):E2}");

        var latents = RandomNormal(41, 2, 4, 8, 8);
        var states = RandomNormal(42, 2, 77, 24);
        var eps = models.Unet.PredictNoise(latents, 421, states);
        var expectedEps = reference.Unet(latents.to_type(ScalarType.Float64), 421, states.to_type(ScalarType.Float64));
        Assert.True(RelativeError(expectedEps, eps) < bound, $"unet: {RelativeError(expectedEps, eps):E2}");

        var image = RandomUniform(43, 1, 3, 32, 32) * 2 - 1;
        var mean = models.VaeEncoder.EncodeUnscaled(image);
        var expectedMean = reference.VaeMoments(image.to_type(ScalarType.Float64)).narrow(1, 0, 4);
        Assert.True(RelativeError(expectedMean, mean) < bound, $"vae encoder: {RelativeError(expectedMean, mean):E2}");

        var decoded = models.VaeDecoder.DecodeUnscaled(latents.narrow(0, 0, 1));
        var expectedImage = reference.VaeDecode(latents.narrow(0, 0, 1).to_type(ScalarType.Float64));
        Assert.True(RelativeError(expectedImage, decoded) < bound, $"vae decoder: {RelativeError(expectedImage, decoded):E2}");
    }

    [Theory]
    [InlineData(true, "Safetensors", "Float32")]
    [InlineData(true, "Bin", "Float32")]
    [InlineData(true, "Bin", "Float16")]
    [InlineData(false, "SafetensorsFp16Variant", "Float16")]
    [InlineData(false, "Bin", "BFloat16")]
    [InlineData(false, "Safetensors", "BFloat16")]
    [InlineData(false, "Safetensors", "Float32")]
    public void Fp32Import_MatchesTheReference(bool sd1, string format, string dtype)
    {
        using var source = TinyDiffusersFolder.Create(sd1 ? TinyDiffusersFolder.Sd1Tiny : TinyDiffusersFolder.Sd2Tiny,
            Enum.Parse<TinyWeightFormat>(format), Enum.Parse<WeightDType>(dtype),
            predictionType: sd1 ? "epsilon" : "v_prediction");
        var output = NewOutput();
        try
        {
            var result = StableDiffusionImport.Convert(source.Path, output);
            Assert.Equal(sd1 ? PredictionType.Epsilon : PredictionType.VPrediction, result.PredictionType);
            // fp32 graphs against float64 on the same (stored) weights, relative to the largest value: the stand-in
            // architecture test measured 4.8e-7 to 9.9e-7 for these graphs; bound 1e-5 as there.
            AssertMatchesReference(output, source.Reference(), 1e-5);
            var scheduler = SchedulerConfig.FromFile(Path.Combine(output, "scheduler", "scheduler_config.json"));
            Assert.Equal(1, scheduler.StepsOffset); // the source said 0 and clip_sample true: fixed as diffusers' pipelines do
            Assert.False(scheduler.ClipSample);
        }
        finally
        {
            Delete(output);
        }
    }

    [Fact]
    public void Fp16Import_MatchesTheReferenceWithinFp16Rounding()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd2Tiny, predictionType: "epsilon");
        var output = NewOutput();
        try
        {
            StableDiffusionImport.Convert(source.Path, output, new StableDiffusionImportOptions { Precision = ModelPrecision.Float16 });
            // Weights rounded to fp16 in the reference too; inputs and outputs are fp16 (11-bit significands): the
            // stand-in fp16-I/O test measured 2.6e-4 to 4.2e-4 relative; bound 2e-3 as there.
            AssertMatchesReference(output, source.Float16Reference(), 2e-3);
            // Stored as 2-byte values: the UNet's external data holds at most 2 bytes per parameter (tensors under 1 KiB
            // stay inside model.onnx), and most of them.
            long fp16Bytes = new FileInfo(Path.Combine(output, "unet", "weights.pb")).Length;
            long unetParameters = source.Weights.Where(kv => !kv.Key.Contains("coder.", StringComparison.Ordinal) && !kv.Key.Contains("quant_conv", StringComparison.Ordinal)
                && !kv.Key.StartsWith("text_model", StringComparison.Ordinal)).Sum(kv => (long)kv.Value.Values.Length);
            Assert.InRange(fp16Bytes, unetParameters, 2 * unetParameters);
        }
        finally
        {
            Delete(output);
        }
    }

    [Fact]
    public void OlderVaeAttentionNames_AndConvolutionShapedMatrices_AreAccepted()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny, oldVaeAttentionNames: true, vaeAttentionAsConv: true);
        var output = NewOutput();
        try
        {
            StableDiffusionImport.Convert(source.Path, output);
            AssertMatchesReference(output, source.Reference(), 1e-5);
        }
        finally
        {
            Delete(output);
        }
    }

    [Fact]
    public void MissingAndUnexpectedTensors_AreAllNamed_AndNothingIsWritten()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny, edit: (component, tensors) =>
        {
            if (component == "unet")
            {
                tensors.Remove("down_blocks.0.attentions.0.proj_in.weight");
                tensors["down_blocks.0.attentions.0.extra.weight"] = ([2], [1f, 2f]);
            }
            if (component == "text_encoder")
            {
                tensors["text_model.final_layer_norm.weight"] = ([23], new float[23]);
            }
        });
        var output = NewOutput();
        var e = Assert.Throws<ModelImportException>(() => StableDiffusionImport.Convert(source.Path, output));
        Assert.Contains(e.Problems, p => p.Contains("unet") && p.Contains("missing") && p.Contains("down_blocks.0.attentions.0.proj_in.weight"));
        Assert.Contains(e.Problems, p => p.Contains("unet") && p.Contains("not part of the architecture") && p.Contains("down_blocks.0.attentions.0.extra.weight"));
        Assert.Contains(e.Problems, p => p.Contains("text_model.final_layer_norm.weight is [23]") && p.Contains("[24]"));
        Assert.Contains("SD 1.x-shaped", e.Message); // the architecture assumed is named
        Assert.False(Directory.Exists(output));
        Assert.Empty(Leftovers(output));
    }

    [Fact]
    public void ExistingOutput_IsRefusedWithoutForce_AndReplacedWithIt()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny);
        var output = NewOutput();
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "mine");
        try
        {
            var e = Assert.Throws<LatentIndigoException>(() => StableDiffusionImport.Convert(source.Path, output));
            Assert.Contains("already exists", e.Message);
            Assert.Equal("mine", File.ReadAllText(Path.Combine(output, "keep.txt")));

            StableDiffusionImport.Convert(source.Path, output, new StableDiffusionImportOptions { Force = true });
            Assert.False(File.Exists(Path.Combine(output, "keep.txt")));
            Assert.True(File.Exists(Path.Combine(output, "unet", "model.onnx")));
            Assert.Empty(Leftovers(output));
        }
        finally
        {
            Delete(output);
        }
    }

    [Fact]
    public void Cancellation_LeavesNothingBehind()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny);
        var output = NewOutput();
        using var cts = new CancellationTokenSource();
        var seen = new List<StableDiffusionImportProgress>();
        // Cancel once the UNet is half written: the export is mid-way through its first model.
        var progress = new SynchronousProgress(p =>
        {
            seen.Add(p);
            if (p.Fraction > 0.2)
            {
                cts.Cancel();
            }
        });
        Assert.ThrowsAny<OperationCanceledException>(() => StableDiffusionImport.Convert(source.Path, output, new StableDiffusionImportOptions(), progress, cts.Token));
        Assert.False(Directory.Exists(output));
        Assert.Empty(Leftovers(output));
        Assert.Contains(seen, p => p.Model == "unet" && p.ParametersDone > 0);
    }

    [Fact]
    public void Progress_CountsEveryParameterOnce()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny);
        var output = NewOutput();
        var seen = new List<StableDiffusionImportProgress>();
        try
        {
            StableDiffusionImport.Convert(source.Path, output, new StableDiffusionImportOptions(), new SynchronousProgress(seen.Add));
            long parameters = source.Weights.Values.Sum(w => (long)w.Values.Length);
            Assert.Equal(parameters, seen[^1].ParametersTotal);
            Assert.Equal(parameters, seen[^1].ParametersDone);
            Assert.Equal(["unet", "vae_encoder", "vae_decoder", "text_encoder"], seen.Select(p => p.Model).Distinct());
        }
        finally
        {
            Delete(output);
        }
    }

    [Theory]
    [InlineData("unet", "in_channels", "9", "inpainting")]
    [InlineData("unet", "addition_embed_type", "\"text_time\"", "SDXL")]
    [InlineData("unet", "transformer_layers_per_block", "2", "SDXL")]
    [InlineData("vae", "shift_factor", "0.1159", "SD 3")]
    public void OtherModelKinds_AreRefusedByName(string component, string field, string json, string named)
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny);
        var config = Path.Combine(source.Path, component, "config.json");
        var text = File.ReadAllText(config);
        text = text.Contains($"\"{field}\":") ? System.Text.RegularExpressions.Regex.Replace(text, $"\"{field}\":[^,}}]*", $"\"{field}\":{json}") : text.TrimEnd('}') + $",\"{field}\":{json}}}";
        File.WriteAllText(config, text);
        var output = NewOutput();
        var e = Assert.ThrowsAny<LatentIndigoException>(() => StableDiffusionImport.Convert(source.Path, output));
        Assert.Contains(named, e.Message);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void SdxlPipeline_IsRefusedByName()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny);
        var index = Path.Combine(source.Path, "model_index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"StableDiffusionPipeline\"", "\"StableDiffusionXLPipeline\"", StringComparison.Ordinal));
        var e = Assert.Throws<ModelImportException>(() => StableDiffusionImport.Convert(source.Path, NewOutput()));
        Assert.Contains("SDXL", e.Message);
    }

    [Fact]
    public void Sd2WithoutAPredictionType_IsRefusedWithTheRule_AndAcceptedWithOne()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd2Tiny, predictionType: null);
        var output = NewOutput();
        try
        {
            var e = Assert.Throws<ModelImportException>(() => StableDiffusionImport.Convert(source.Path, output));
            Assert.Contains("768-pixel", e.Message);
            Assert.Contains("v_prediction", e.Message);
            Assert.False(Directory.Exists(output));
            var result = StableDiffusionImport.Convert(source.Path, output, new StableDiffusionImportOptions { PredictionType = PredictionType.VPrediction });
            Assert.Equal(PredictionType.VPrediction, SchedulerConfig.FromFile(Path.Combine(output, "scheduler", "scheduler_config.json")).PredictionType);
        }
        finally
        {
            Delete(output);
        }
    }

    [Fact]
    public void WithoutATokenizer_TheEmptyPromptWorks_AndAPromptSaysHowToAddOne()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny, tokenizer: false);
        var output = NewOutput();
        try
        {
            var result = StableDiffusionImport.Convert(source.Path, output);
            Assert.Contains(result.Notes, n => n.Contains("only the empty prompt"));
            using var models = StableDiffusionModels.Load(output);
            var ids = models.Tokenizer.Encode("");
            Assert.Equal(49406, ids[0]);
            Assert.All(ids.Skip(1), id => Assert.Equal(49407, id)); // SD 1.x pads with <|endoftext|>
            var e = Assert.Throws<LatentIndigoException>(() => models.Tokenizer.Encode("a cat"));
            Assert.Contains("--tokenizer", e.Message);
        }
        finally
        {
            Delete(output);
        }
    }

    private static IEnumerable<string> Leftovers(string output) =>
        Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}.*");

    private static void Delete(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private sealed class SynchronousProgress(Action<StableDiffusionImportProgress> report) : IProgress<StableDiffusionImportProgress>
    {
        public void Report(StableDiffusionImportProgress value) => report(value);
    }
}
