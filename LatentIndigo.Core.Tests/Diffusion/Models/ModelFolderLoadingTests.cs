using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using LatentIndigo.Tests.Diffusion.StandIns;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace LatentIndigo.Tests.Diffusion.Models;

public class ModelFolderLoadingTests
{
    [Fact]
    public void Invalid_model_options_are_refused_before_loading_with_every_problem_listed()
    {
        var options = new DiffusionModelOptions { CudaDeviceId = -1, IntraOpNumThreads = 0, CudaMemoryLimitBytes = 0 };
        var ex = Assert.Throws<LatentIndigoException>(() => StableDiffusionModels.Load("/no/such/folder", options));
        Assert.Contains("CudaDeviceId = -1", ex.Message);
        Assert.Contains("IntraOpNumThreads = 0", ex.Message);
        Assert.Contains("CudaMemoryLimitBytes = 0", ex.Message);
        Assert.DoesNotContain("does not exist", ex.Message); // the options are checked first
        new DiffusionModelOptions().Validate(); // the defaults are valid
    }

    [Fact]
    public void ValidFolder_LoadsAndLogsWhatItFound()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        var log = new ListLogger();
        using var models = StableDiffusionModels.Load(folder.Path, null, log);
        Assert.Equal(4, models.LatentChannels);
        Assert.Equal(0.18215, models.ScalingFactor);
        Assert.True(models.ScalingFactorFromConfig);
        Assert.Equal(VaeEncoderOutputKind.LatentSample, models.EncoderOutput);
        Assert.Equal(ModelPrecision.Float32, models.Precision);
        Assert.Equal(ExecutionProviderKind.Cpu, models.ExecutionProvider);
        Assert.Equal(PredictionType.Epsilon, models.PredictionType);
        Assert.Equal(1, models.Unet.TimestepRank);
        Assert.Equal(TensorElementType.Int64, models.Unet.TimestepElementType);
        Assert.Equal(32, models.HiddenSize);
        Assert.True(models.IsStandIn);
        var info = Assert.Single(log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("Loaded")).Message;
        Assert.Contains("STAND-IN", info);
        Assert.Contains("latent_sample", info);
        Assert.Contains("[batch] int64", info);
        Assert.Contains("from the VAE config", info);
    }

    [Theory]
    [InlineData(true, StandInEncoderOutput.LatentParameters, StandInTimestepForm.ScalarFloat32, 3)]
    [InlineData(false, StandInEncoderOutput.LatentParameters, StandInTimestepForm.ScalarInt64, 6)]
    [InlineData(true, StandInEncoderOutput.LatentSample, StandInTimestepForm.BatchFloat32, 4)]
    [InlineData(false, StandInEncoderOutput.LatentSample, StandInTimestepForm.BatchInt64, 1)]
    public void Variants_AreDetected(bool fp16, StandInEncoderOutput encoder, StandInTimestepForm timestep, int channels)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions
        {
            Float16 = fp16, EncoderOutput = encoder, TimestepForm = timestep, LatentChannels = channels, PredictionType = "v_prediction",
        });
        var log = new ListLogger();
        using var models = StableDiffusionModels.Load(folder.Path, null, log);
        Assert.Equal(channels, models.LatentChannels);
        Assert.Equal(fp16 ? ModelPrecision.Float16 : ModelPrecision.Float32, models.Precision);
        Assert.Equal(encoder == StandInEncoderOutput.LatentParameters ? VaeEncoderOutputKind.LatentParameters : VaeEncoderOutputKind.LatentSample, models.EncoderOutput);
        bool scalar = timestep is StandInTimestepForm.ScalarFloat32 or StandInTimestepForm.ScalarInt64;
        Assert.Equal(scalar ? 0 : 1, models.Unet.TimestepRank);
        bool int64 = timestep is StandInTimestepForm.ScalarInt64 or StandInTimestepForm.BatchInt64;
        Assert.Equal(int64 ? TensorElementType.Int64 : TensorElementType.Float, models.Unet.TimestepElementType);
        Assert.Equal(PredictionType.VPrediction, models.PredictionType);
        if (encoder == StandInEncoderOutput.LatentParameters)
        {
            Assert.Contains(log.Entries, e => e.Message.Contains("mean of latent_parameters is used"));
        }
    }

    [Fact]
    public void MissingScalingFactor_UsesDefaultAndSaysSo()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { ScalingFactor = null });
        var log = new ListLogger();
        using var models = StableDiffusionModels.Load(folder.Path, null, log);
        Assert.Equal(0.18215, models.ScalingFactor);
        Assert.False(models.ScalingFactorFromConfig);
        Assert.Contains(log.Entries, e => e.Message.Contains("SD 1.x/2.x default"));
    }

    [Fact]
    public void NoModelConfigs_StillLoads_FromMetadataAlone()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { OmitModelConfigs = true, LatentChannels = 5 });
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.Equal(5, models.LatentChannels);
        Assert.False(models.ScalingFactorFromConfig);
    }

    [Fact]
    public void ExternalDataWeights_Load()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { ExternalData = true, Cost = new StandInCost(16, 1) });
        Assert.True(File.Exists(Path.Combine(folder.Path, "unet", "weights.pb")));
        using var models = StableDiffusionModels.Load(folder.Path);
        Assert.Equal(4, models.LatentChannels);
    }

    [Theory]
    [InlineData(StandInDefect.MissingUnet, "unet/model.onnx is missing")]
    [InlineData(StandInDefect.MissingVaeEncoder, "vae_encoder/model.onnx is missing")]
    [InlineData(StandInDefect.MissingVaeDecoder, "vae_decoder/model.onnx is missing")]
    [InlineData(StandInDefect.MissingTextEncoder, "text_encoder/model.onnx is missing")]
    [InlineData(StandInDefect.MissingTokenizer, "tokenizer/vocab.json is missing")]
    [InlineData(StandInDefect.MissingSchedulerConfig, "scheduler/scheduler_config.json is missing")]
    [InlineData(StandInDefect.CorruptUnet, "unet/model.onnx could not be loaded by ONNX Runtime")]
    [InlineData(StandInDefect.UnetInputRenamed, "unet/model.onnx: input 'sample' is missing")]
    [InlineData(StandInDefect.UnetOutputRenamed, "unet/model.onnx: output 'out_sample' is missing")]
    [InlineData(StandInDefect.UnetSampleRank3, "input 'sample' has rank 3")]
    [InlineData(StandInDefect.UnetSampleInt32, "input 'sample' is int32; expected float32 or float16")]
    [InlineData(StandInDefect.TimestepRank2, "input 'timestep' has rank 2")]
    [InlineData(StandInDefect.TimestepFloat64, "input 'timestep' is float64")]
    [InlineData(StandInDefect.EncoderOutputRenamed, "vae_encoder/model.onnx: has no output named 'latent_sample' or 'latent_parameters'")]
    [InlineData(StandInDefect.EncoderInputChannels1, "vae_encoder/model.onnx: input 'sample' has 1 channels; expected 3")]
    [InlineData(StandInDefect.EncoderParametersOddChannels, "'latent_parameters' has 9 channels; expected an even number")]
    [InlineData(StandInDefect.DecoderChannelMismatch, "latent channel counts disagree")]
    [InlineData(StandInDefect.TextEncoderFloatIds, "text_encoder/model.onnx: input 'input_ids' is float32; expected int32 or int64")]
    [InlineData(StandInDefect.TextEncoderOutputRenamed, "text_encoder/model.onnx: output 'last_hidden_state' is missing")]
    [InlineData(StandInDefect.HiddenSizeMismatch, "last_hidden_state width 33 differs from the UNet's encoder_hidden_states width 32")]
    [InlineData(StandInDefect.BadSchedulerConfig, "scheduler/scheduler_config.json: 'prediction_type' must be a string")]
    [InlineData(StandInDefect.BadScalingFactor, "vae_decoder/config.json: scaling_factor must be a positive number")]
    public void EachDefect_GivesItsOwnMessage(StandInDefect defect, string expected)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions { Defects = [defect] });
        var e = Assert.Throws<ModelFolderException>(() => StableDiffusionModels.Load(folder.Path));
        Assert.Contains(e.Problems, p => p.Contains(expected, StringComparison.Ordinal));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void SeveralDefects_AreAllListedInOneError()
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions
        {
            Defects = [StandInDefect.MissingTokenizer, StandInDefect.UnetInputRenamed, StandInDefect.TextEncoderFloatIds],
        });
        var e = Assert.Throws<ModelFolderException>(() => StableDiffusionModels.Load(folder.Path));
        Assert.Contains(e.Problems, p => p.Contains("tokenizer/vocab.json is missing"));
        Assert.Contains(e.Problems, p => p.Contains("tokenizer/merges.txt is missing"));
        Assert.Contains(e.Problems, p => p.Contains("input 'sample' is missing"));
        Assert.Contains(e.Problems, p => p.Contains("unexpected input 'latent'"));
        Assert.Contains(e.Problems, p => p.Contains("'input_ids' is float32"));
        Assert.StartsWith($"'{folder.Path}' is not a usable Stable Diffusion ONNX export ({e.Problems.Count} problems)", e.Message);
    }

    [Fact]
    public void MissingFolder_IsAClearError()
    {
        var e = Assert.Throws<LatentIndigoException>(() => StableDiffusionModels.Load("/nonexistent/sd-export"));
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Cuda_WithCpuPackage_NamesTheGpuPackageAndRequirements()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        var e = Assert.Throws<ExecutionProviderUnavailableException>(() =>
            StableDiffusionModels.Load(folder.Path, new DiffusionModelOptions { ExecutionProvider = ExecutionProviderKind.Cuda }));
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", e.Message);
        Assert.Contains("CUDA 13", e.Message);
        Assert.Contains("cuDNN 9", e.Message);
        Assert.Contains("AllowCpuFallback", e.Message);
    }

    [Fact]
    public void Cuda_WithExplicitFallback_RunsOnCpuAndWarns()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        var log = new ListLogger();
        using var models = StableDiffusionModels.Load(folder.Path,
            new DiffusionModelOptions { ExecutionProvider = ExecutionProviderKind.Cuda, AllowCpuFallback = true, CudaMemoryLimitBytes = 1L << 30 }, log);
        Assert.Equal(ExecutionProviderKind.Cpu, models.ExecutionProvider);
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("running on the CPU"));
    }

    [Fact]
    public void SessionOptionsHook_IsCalledForEachModel()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        var seen = new List<DiffusionModelKind>();
        using var models = StableDiffusionModels.Load(folder.Path, new DiffusionModelOptions
        {
            ConfigureSession = (kind, so) => { seen.Add(kind); so.GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_BASIC; },
        });
        Assert.Equal(Enum.GetValues<DiffusionModelKind>().OrderBy(k => k), seen.OrderBy(k => k));
    }
}
