using System.Text.Json;
using LatentIndigo.Diffusion.Architecture;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LatentIndigo.StandIns;

/// <summary>
/// Writes a complete stand-in Stable Diffusion ONNX folder (the layout of a diffusers/optimum export) made of tiny
/// graphs with the exact input/output contract. They are NOT diffusion models; what they compute is fixed and simple
/// so tests can check the plumbing:
/// <list type="bullet">
/// <item><c>unet</c>: out_sample = 0.5·sample + timestep/1000 + mean(encoder_hidden_states[b]) by default, or the exact
/// ε-predictor for N(0, I) data √(1−ᾱ_t)·sample (<see cref="StandInUnetBehavior.GaussianDenoiser"/>), plus the
/// optional convolution stack of <see cref="StandInOptions.Cost"/>.</item>
/// <item><c>vae_encoder</c>: per 8×8 block, latent = A·mean(block) with A = <see cref="VaeMatrix"/> (C×3);
/// <c>latent_parameters</c> appends C log-variance channels equal to −4.</item>
/// <item><c>vae_decoder</c>: sample = nearest-upsample×8 of P·latent with P the pseudo-inverse of A, so for C ≥ 3
/// decode(encode(x)) is the 8×8 block average of x.</item>
/// <item><c>text_encoder</c>: last_hidden_state[b,s,h] = input_ids[b,s]·(h+1)·1e-4 + 0.01·(h mod 7);
/// pooler_output = its mean over s.</item>
/// </list>
/// Anything that prints results obtained with these must say they come from stand-ins.
/// </summary>
public static class StandInModelBuilder
{
    /// <summary>Sequence length of the CLIP text encoder.</summary>
    public const int SequenceLength = 77;

    /// <summary>Writes a stand-in folder at <paramref name="folder"/> (created if needed) and returns it.</summary>
    public static string Write(string folder, StandInOptions? options = null)
    {
        var o = options ?? new StandInOptions();
        if (o.LatentChannels < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "LatentChannels must be at least 1.");
        }
        if (o.Architecture is { } arch)
        {
            if (arch.Text.Hidden != arch.Unet.CrossAttentionDim || arch.Vae.LatentChannels != arch.Unet.LatentChannels)
            {
                throw new ArgumentException("The architecture's text width must equal the UNet's cross-attention width, and the VAE's latent channels the UNet's.", nameof(options));
            }
            o.LatentChannels = arch.Unet.LatentChannels;
            o.HiddenSize = arch.Text.Hidden;
            o.VaeBlocks = arch.Vae.BlockOutChannels.Length;
        }
        var defects = new HashSet<StandInDefect>(o.Defects);
        Directory.CreateDirectory(folder);
        var floatType = o.Float16 ? DataType.Float16 : DataType.Float;
        int c = o.LatentChannels;
        int hidden = o.HiddenSize;

        if (!defects.Contains(StandInDefect.MissingUnet))
        {
            var unetDir = Path.Combine(folder, "unet");
            if (defects.Contains(StandInDefect.CorruptUnet))
            {
                Directory.CreateDirectory(unetDir);
                File.WriteAllText(Path.Combine(unetDir, "model.onnx"), "this is not an ONNX model");
            }
            else if (o.Architecture is { } a)
            {
                ArchitectureModels.WriteUnet(Contract(o), a.Unet, SequenceLength, a.Weights, unetDir, floatType);
            }
            else
            {
                BuildUnet(o, defects, floatType).Save(unetDir);
            }
            WriteConfig(o, unetDir, new { _class_name = "UNet2DConditionModel", in_channels = UnetInChannels(o), out_channels = c, sample_size = o.UnetSampleSize, cross_attention_dim = hidden });
        }
        if (!defects.Contains(StandInDefect.MissingVaeEncoder))
        {
            var dir = Path.Combine(folder, "vae_encoder");
            if (o.Architecture is { } a)
            {
                ArchitectureModels.WriteVaeEncoder(Contract(o), a.Vae, a.Weights, dir, floatType);
            }
            else
            {
                BuildVaeEncoder(o, defects, floatType).Save(dir);
            }
            WriteVaeConfig(o, defects, dir);
        }
        if (!defects.Contains(StandInDefect.MissingVaeDecoder))
        {
            var dir = Path.Combine(folder, "vae_decoder");
            var decoderType = o.Float32VaeDecoder ? DataType.Float : floatType;
            if (o.Architecture is { } a)
            {
                ArchitectureModels.WriteVaeDecoder(Contract(o), a.Vae, a.Weights, dir, decoderType);
            }
            else
            {
                BuildVaeDecoder(o, defects, decoderType).Save(dir);
            }
            WriteVaeConfig(o, defects, dir);
        }
        if (!defects.Contains(StandInDefect.MissingTextEncoder))
        {
            var dir = Path.Combine(folder, "text_encoder");
            int textHidden = defects.Contains(StandInDefect.HiddenSizeMismatch) ? hidden + 1 : hidden;
            if (o.Architecture is { } a)
            {
                ArchitectureModels.WriteTextEncoder(Contract(o), a.Text, a.Weights, dir, floatType);
            }
            else
            {
                BuildTextEncoder(o, defects, floatType, textHidden).Save(dir);
            }
            WriteConfig(o, dir, new { _class_name = "CLIPTextModel", hidden_size = textHidden, max_position_embeddings = SequenceLength });
        }
        if (!defects.Contains(StandInDefect.MissingTokenizer))
        {
            StandInTokenizerFiles.Write(Path.Combine(folder, "tokenizer"), o.Sd2Tokenizer ? StandInTokenizerFiles.Sd2PadToken : null);
        }
        if (!defects.Contains(StandInDefect.MissingSchedulerConfig))
        {
            var dir = Directory.CreateDirectory(Path.Combine(folder, "scheduler")).FullName;
            object predictionType = defects.Contains(StandInDefect.BadSchedulerConfig) ? 5 : o.PredictionType;
            WriteJson(Path.Combine(dir, "scheduler_config.json"), new Dictionary<string, object?>
            {
                ["_class_name"] = SchedulerClass(o), ["beta_end"] = 0.012, ["beta_schedule"] = "scaled_linear",
                ["beta_start"] = 0.00085, ["clip_sample"] = o.SchedulerClipSample, ["num_train_timesteps"] = 1000,
                ["prediction_type"] = predictionType, ["set_alpha_to_one"] = false, ["steps_offset"] = o.SchedulerStepsOffset,
                ["trained_betas"] = null, ["timestep_spacing"] = "leading",
            });
        }
        WriteJson(Path.Combine(folder, "model_index.json"), new Dictionary<string, object>
        {
            ["_class_name"] = PipelineClass(o), ["_diffusers_version"] = "0.30.0",
            ["_stand_in"] = "LatentIndigo stand-in models: not a diffusion model, for tests and demos of plumbing only",
            ["unet"] = new[] { "diffusers", "OnnxRuntimeModel" }, ["vae_encoder"] = new[] { "diffusers", "OnnxRuntimeModel" },
            ["vae_decoder"] = new[] { "diffusers", "OnnxRuntimeModel" }, ["text_encoder"] = new[] { "diffusers", "OnnxRuntimeModel" },
            ["tokenizer"] = new[] { "transformers", "CLIPTokenizer" }, ["scheduler"] = new[] { "diffusers", SchedulerClass(o) },
        });
        // The marker file LatentIndigo.Core looks for (ModelFolderInspector.StandInMarkerFile; StandIns does not reference Core).
        File.WriteAllText(Path.Combine(folder, "LATENTINDIGO-STAND-IN.txt"),
            "LatentIndigo stand-in models with random weights: not a diffusion model, for tests and demos of plumbing only.\n");
        foreach (var rel in o.CorruptConfigs)
        {
            var path = Path.Combine(folder, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "{ \"_class_name\": \"truncated");
        }
        return folder;
    }

    // The options' export contract for the architecture graphs.
    private static SdExportContract Contract(StandInOptions o) => new(
        o.TimestepForm switch
        {
            StandInTimestepForm.ScalarInt64 or StandInTimestepForm.BatchInt64 => DataType.Int64,
            StandInTimestepForm.BatchFloat16 => DataType.Float16,
            _ => DataType.Float,
        },
        o.TimestepForm switch
        {
            StandInTimestepForm.ScalarFloat32 or StandInTimestepForm.ScalarInt64 => SdTimestepShape.Scalar,
            StandInTimestepForm.SingleFloat32 => SdTimestepShape.Single,
            _ => SdTimestepShape.Batch,
        },
        o.EncoderOutput switch
        {
            StandInEncoderOutput.LatentParameters => SdEncoderOutput.Parameters,
            StandInEncoderOutput.LatentSampleRandom => SdEncoderOutput.RandomSample,
            _ => SdEncoderOutput.Mean,
        },
        o.TextInputIdsInt64, o.ExternalData, StaticBatch: o.StaticShape?.Batch, StaticLatentSize: o.StaticShape?.LatentSize);

    private static int UnetInChannels(StandInOptions o) => o.Pipeline == StandInPipelineKind.Inpainting ? 2 * o.LatentChannels + 1 : o.LatentChannels;

    private static string SchedulerClass(StandInOptions o) => o.Pipeline == StandInPipelineKind.LatentConsistency ? "LCMScheduler" : "DDIMScheduler";

    private static string PipelineClass(StandInOptions o) => o.Pipeline switch
    {
        StandInPipelineKind.StableDiffusionXL => "ORTStableDiffusionXLPipeline",
        StandInPipelineKind.Inpainting => "OnnxStableDiffusionInpaintPipeline",
        StandInPipelineKind.LatentConsistency => "ORTLatentConsistencyModelPipeline",
        _ => "OnnxStableDiffusionPipeline",
    };

    // Dimensions as declared: static numbers or symbolic names.
    private static object Batch(StandInOptions o) => o.StaticShape is { } s ? s.Batch : "batch";

    private static object Latent(StandInOptions o, string name) => o.StaticShape is { } s ? s.LatentSize : name;

    private static object Pixels(StandInOptions o, string name) => o.StaticShape is { } s ? 8 * s.LatentSize : name;

    private static object Channels(StandInOptions o, int c, string name = "channels") => o.SymbolicChannels ? name : c;

    /// <summary>Writes a stand-in folder under the temp directory; dispose the result to delete it.</summary>
    public static StandInFolder CreateTemporary(StandInOptions? options = null)
    {
        var path = Path.Combine(Path.GetTempPath(), "latentindigo-standin-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            Write(path, options);
        }
        catch
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            throw;
        }
        return new StandInFolder(path);
    }

    /// <summary>The stand-in encoder's C×3 colour-to-latent matrix A (full rank for every C).</summary>
    public static double[,] VaeMatrix(int channels)
    {
        var a = new double[channels, 3];
        for (int i = 0; i < channels; i++)
        {
            for (int k = 0; k < 3; k++)
            {
                a[i, k] = 0.4 * Math.Cos(0.7 * (i + 1) * (k + 1)) + (i % 3 == k ? 1.0 : 0.0);
            }
        }
        return a;
    }

    /// <summary>The Moore–Penrose pseudo-inverse (3×C) of <see cref="VaeMatrix"/>, used by the stand-in decoder.</summary>
    public static double[,] VaeInverse(int channels) => SmallLinearAlgebra.PseudoInverse(VaeMatrix(channels));

    /// <summary>The stand-in text encoder's output for one token id at hidden index <paramref name="h"/>.</summary>
    public static double TextEmbedding(int tokenId, int h) => tokenId * (h + 1) * 1e-4 + 0.01 * (h % 7);

    private static OnnxGraphBuilder BuildUnet(StandInOptions o, HashSet<StandInDefect> defects, DataType floatType)
    {
        var g = new OnnxGraphBuilder("stand_in_unet");
        if (o.ExternalData)
        {
            g.ExternalData = new MemoryStream();
        }
        int c = o.LatentChannels;
        var sampleType = defects.Contains(StandInDefect.UnetSampleInt32) ? DataType.Int32 : floatType;
        var sampleName = defects.Contains(StandInDefect.UnetInputRenamed) ? "latent" : "sample";
        int inChannels = UnetInChannels(o);
        var sample = defects.Contains(StandInDefect.UnetSampleRank3)
            ? g.Input(sampleName, sampleType, Batch(o), Channels(o, inChannels), Latent(o, "height"))
            : g.Input(sampleName, sampleType, Batch(o), Channels(o, inChannels), Latent(o, "height"), Latent(o, "width"));
        bool scalar = o.TimestepForm is StandInTimestepForm.ScalarFloat32 or StandInTimestepForm.ScalarInt64;
        var tType = defects.Contains(StandInDefect.TimestepFloat64) ? DataType.Double
            : o.TimestepForm is StandInTimestepForm.ScalarInt64 or StandInTimestepForm.BatchInt64 ? DataType.Int64
            : o.TimestepForm == StandInTimestepForm.BatchFloat16 ? DataType.Float16 : DataType.Float;
        var timestep = defects.Contains(StandInDefect.TimestepRank2) ? g.Input("timestep", tType, Batch(o), 1)
            : scalar ? g.Input("timestep", tType)
            : o.TimestepForm == StandInTimestepForm.SingleFloat32 ? g.Input("timestep", tType, 1) : g.Input("timestep", tType, Batch(o));
        var ehs = g.Input("encoder_hidden_states", floatType, Batch(o), o.StaticShape is null ? "sequence" : SequenceLength, o.HiddenSize);
        if (o.Pipeline == StandInPipelineKind.StableDiffusionXL)
        {
            g.Input("text_embeds", floatType, Batch(o), 1280);
            g.Input("time_ids", floatType, Batch(o), 6);
        }
        if (o.Pipeline == StandInPipelineKind.LatentConsistency)
        {
            g.Input("timestep_cond", floatType, Batch(o), 256);
        }

        var x = ToFloat(g, sample, sampleType);
        if (inChannels != c)
        {
            // Inpainting: the latents are the first C of the input channels.
            x = g.Node("Slice", [x, g.Int64s("inpaint_start", [0], 1), g.Int64s("inpaint_end", [c], 1), g.Int64s("inpaint_axis", [1], 1)]);
        }
        var t = ToFloat(g, timestep, tType);
        var e = ToFloat(g, ehs, floatType);
        string sum;
        if (o.UnetBehavior == StandInUnetBehavior.GaussianDenoiser)
        {
            // ε̂ = √(1−ᾱ_t)·x, with √(1−ᾱ_t) looked up by the integer timestep; the text input stays connected (×0).
            var table = GaussianDenoiserTable(o.PredictionType);
            var index = g.Node("Cast", [t], null, OnnxGraphBuilder.Int("to", (long)DataType.Int64));
            var coefficient = g.Node("Gather", [g.Floats("sqrt_one_minus_alpha_bar", table, table.Length), index]);
            var c4 = g.Node("Reshape", [coefficient, g.Int64s("shape_t", [-1, 1, 1, 1], 4)]);
            var eZero = g.Node("Mul", [g.Node("ReduceMean", [e], null, OnnxGraphBuilder.Ints("axes", 1, 2), OnnxGraphBuilder.Int("keepdims", 1)), g.Floats("zero", [0f], 1)]);
            sum = g.Node("Add", [g.Node("Mul", [x, c4]), g.Node("Unsqueeze", [eZero, g.Int64s("axis3", [3], 1)])]);
        }
        else
        {
            var t4 = g.Node("Reshape", [t, g.Int64s("shape_t", [-1, 1, 1, 1], 4)]);
            var tScaled = g.Node("Div", [t4, g.Floats("thousand", [1000f], 1)]);
            var eMean = g.Node("ReduceMean", [e], null, OnnxGraphBuilder.Ints("axes", 1, 2), OnnxGraphBuilder.Int("keepdims", 1));
            var e4 = g.Node("Unsqueeze", [eMean, g.Int64s("axis3", [3], 1)]);
            var half = g.Node("Mul", [x, g.Floats("half", [0.5f], 1)]);
            sum = g.Node("Add", [g.Node("Add", [half, tScaled]), e4]);
        }
        if (o.Cost is { } cost)
        {
            sum = g.Node("Add", [sum, ConvStack(g, x, c, cost)]);
        }
        if (o.CudaOnlyFusedOp)
        {
            // A com.microsoft fused op that ONNX Runtime implements for CUDA only (as onnxruntime's optimize_pipeline.py
            // emits for fp16), contributing ×0 so the result is unchanged where it runs.
            var fused = g.Node("BiasSplitGelu", [e, g.Floats("fused_bias", new float[o.HiddenSize], o.HiddenSize)], null, OnnxGraphBuilder.MicrosoftDomain);
            var fusedZero = g.Node("Mul", [g.Node("ReduceMean", [fused], null, OnnxGraphBuilder.Ints("axes", 1, 2), OnnxGraphBuilder.Int("keepdims", 1)), g.Floats("fused_zero", [0f], 1)]);
            sum = g.Node("Add", [sum, g.Node("Unsqueeze", [fusedZero, g.Int64s("fused_axis3", [3], 1)])]);
        }
        var outName = defects.Contains(StandInDefect.UnetOutputRenamed) ? "noise_pred" : "out_sample";
        FromFloat(g, sum, floatType, outName);
        g.Output(outName, floatType, Batch(o), Channels(o, c), Latent(o, "height"), Latent(o, "width"));
        return g;
    }

    // √(1−ᾱ_t) for t = 0…999 under the scheduler config this builder writes (scaled-linear β 0.00085→0.012);
    // zeros for v-prediction, where the ideal v for N(0, I) data is 0.
    private static float[] GaussianDenoiserTable(string predictionType)
    {
        var table = new float[1000];
        if (predictionType != "epsilon")
        {
            return table;
        }
        double alphaBar = 1;
        for (int i = 0; i < table.Length; i++)
        {
            double sqrtBeta = Math.Sqrt(0.00085) + (Math.Sqrt(0.012) - Math.Sqrt(0.00085)) * i / 999.0;
            alphaBar *= 1 - sqrtBeta * sqrtBeta;
            table[i] = (float)Math.Sqrt(1 - alphaBar);
        }
        return table;
    }

    private static string ConvStack(OnnxGraphBuilder g, string x, int channels, StandInCost cost)
    {
        var random = new Random(1234);
        string Conv(string input, int cin, int cout, string name)
        {
            // He-style scale keeps activations bounded through the stack.
            double std = Math.Sqrt(2.0 / (9 * cin)) * 0.5;
            var w = new float[cout * cin * 9];
            for (int i = 0; i < w.Length; i++)
            {
                w[i] = (float)((random.NextDouble() * 2 - 1) * std * Math.Sqrt(3));
            }
            var wName = g.Floats(name + "_w", w, cout, cin, 3, 3);
            var bName = g.Floats(name + "_b", new float[cout], cout);
            return g.Node("Conv", [input, wName, bName], null, OnnxGraphBuilder.Ints("kernel_shape", 3, 3),
                OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1));
        }
        var h = g.Node("Relu", [Conv(x, channels, cost.Width, "conv_in")]);
        for (int i = 0; i < cost.Depth; i++)
        {
            h = g.Node("Relu", [Conv(h, cost.Width, cost.Width, $"conv_{i}")]);
        }
        return Conv(h, cost.Width, channels, "conv_out");
    }

    private static OnnxGraphBuilder BuildVaeEncoder(StandInOptions o, HashSet<StandInDefect> defects, DataType floatType)
    {
        var g = new OnnxGraphBuilder("stand_in_vae_encoder");
        if (o.ExternalData)
        {
            g.ExternalData = new MemoryStream();
        }
        int c = o.LatentChannels;
        int inChannels = defects.Contains(StandInDefect.EncoderInputChannels1) ? 1 : 3;
        var x = ToFloat(g, g.Input("sample", floatType, Batch(o), inChannels, Pixels(o, "height"), Pixels(o, "width")), floatType);
        var pooled = g.Node("AveragePool", [x], null, OnnxGraphBuilder.Ints("kernel_shape", 8, 8), OnnxGraphBuilder.Ints("strides", 8, 8));
        var a = VaeMatrix(c);
        bool random = o.EncoderOutput == StandInEncoderOutput.LatentSampleRandom;
        bool parameters = o.EncoderOutput == StandInEncoderOutput.LatentParameters || defects.Contains(StandInDefect.EncoderParametersOddChannels);
        int outChannels = parameters || random ? 2 * c + (defects.Contains(StandInDefect.EncoderParametersOddChannels) ? 1 : 0) : c;
        var w = new float[outChannels * inChannels];
        var b = new float[outChannels];
        for (int i = 0; i < outChannels; i++)
        {
            if (i < c)
            {
                for (int k = 0; k < inChannels; k++)
                {
                    w[i * inChannels + k] = (float)a[i, k];
                }
            }
            else
            {
                b[i] = -4f; // log-variance channels: a constant, the library must ignore them
            }
        }
        if (o.VaeCost is { } encoderCost)
        {
            // Realistic-cost variant: a convolution stack at latent resolution whose (tiny) contribution keeps it live.
            pooled = g.Node("Add", [pooled, g.Node("Mul", [ConvStack(g, pooled, inChannels, encoderCost), g.Floats("vae_cost_scale", [1e-3f], 1)])]);
        }
        var latent = g.Node("Conv", [pooled, g.Floats("enc_w", w, outChannels, inChannels, 1, 1), g.Floats("enc_b", b, outChannels)]);
        if (random)
        {
            // diffusers' DiagonalGaussianDistribution.sample(): mean + exp(½·logvar)·ε, ε from an unseeded RandomNormalLike.
            var mean = g.Node("Slice", [latent, g.Int64s("mean_start", [0], 1), g.Int64s("mean_end", [c], 1), g.Int64s("mean_axis", [1], 1)]);
            var logvar = g.Node("Slice", [latent, g.Int64s("logvar_start", [c], 1), g.Int64s("logvar_end", [2 * c], 1), g.Int64s("logvar_axis", [1], 1)]);
            var std = g.Node("Exp", [g.Node("Mul", [logvar, g.Floats("half_logvar", [0.5f], 1)])]);
            var eps = g.Node("RandomNormalLike", [mean]);
            latent = g.Node("Add", [mean, g.Node("Mul", [std, eps])]);
            outChannels = c;
        }
        var outName = defects.Contains(StandInDefect.EncoderOutputRenamed) ? "latent"
            : parameters ? "latent_parameters" : "latent_sample";
        FromFloat(g, latent, floatType, outName);
        g.Output(outName, floatType, Batch(o), Channels(o, outChannels, "latent_channels"), Latent(o, "latent_height"), Latent(o, "latent_width"));
        return g;
    }

    private static OnnxGraphBuilder BuildVaeDecoder(StandInOptions o, HashSet<StandInDefect> defects, DataType floatType)
    {
        var g = new OnnxGraphBuilder("stand_in_vae_decoder");
        int c = o.LatentChannels + (defects.Contains(StandInDefect.DecoderChannelMismatch) ? 1 : 0);
        var z = ToFloat(g, g.Input("latent_sample", floatType, Batch(o), Channels(o, c), Latent(o, "latent_height"), Latent(o, "latent_width")), floatType);
        var p = VaeInverse(c);
        var w = new float[3 * c];
        for (int k = 0; k < 3; k++)
        {
            for (int i = 0; i < c; i++)
            {
                w[k * c + i] = (float)p[k, i];
            }
        }
        if (o.VaeCost is { } decoderCost)
        {
            z = g.Node("Add", [z, g.Node("Mul", [ConvStack(g, z, c, decoderCost), g.Floats("vae_cost_scale", [1e-3f], 1)])]);
        }
        var rgb = g.Node("Conv", [z, g.Floats("dec_w", w, 3, c, 1, 1)]);
        var up = g.Node("Resize", [rgb, "", g.Floats("scales", [1f, 1f, 8f, 8f], 4)], null,
            OnnxGraphBuilder.Str("mode", "nearest"));
        FromFloat(g, up, floatType, "sample");
        g.Output("sample", floatType, Batch(o), 3, Pixels(o, "height"), Pixels(o, "width"));
        return g;
    }

    private static OnnxGraphBuilder BuildTextEncoder(StandInOptions o, HashSet<StandInDefect> defects, DataType floatType, int hidden)
    {
        var g = new OnnxGraphBuilder("stand_in_text_encoder");
        var idType = defects.Contains(StandInDefect.TextEncoderFloatIds) ? DataType.Float : o.TextInputIdsInt64 ? DataType.Int64 : DataType.Int32;
        var ids = ToFloat(g, o.StaticShape is null ? g.Input("input_ids", idType, "batch", "sequence") : g.Input("input_ids", idType, 1, SequenceLength), idType);
        var ids3 = g.Node("Unsqueeze", [ids, g.Int64s("axis2", [2], 1)]);
        var w = new float[hidden];
        var b = new float[hidden];
        for (int h = 0; h < hidden; h++)
        {
            w[h] = (float)((h + 1) * 1e-4);
            b[h] = (float)(0.01 * (h % 7));
        }
        var states = g.Node("Add", [g.Node("Mul", [ids3, g.Floats("tok_w", w, hidden)]), g.Floats("tok_b", b, hidden)]);
        var outName = defects.Contains(StandInDefect.TextEncoderOutputRenamed) ? "hidden" : "last_hidden_state";
        FromFloat(g, states, floatType, outName);
        var pooled = g.Node("ReduceMean", [states], null, OnnxGraphBuilder.Ints("axes", 1), OnnxGraphBuilder.Int("keepdims", 0));
        FromFloat(g, pooled, floatType, "pooler_output");
        g.Output(outName, floatType, "batch", "sequence", hidden);
        g.Output("pooler_output", floatType, "batch", hidden);
        return g;
    }

    private static string ToFloat(OnnxGraphBuilder g, string input, DataType type) =>
        type == DataType.Float ? input : g.Node("Cast", [input], null, OnnxGraphBuilder.Int("to", (long)DataType.Float));

    private static void FromFloat(OnnxGraphBuilder g, string input, DataType type, string output)
    {
        if (type == DataType.Float)
        {
            g.Node("Identity", [input], output);
        }
        else
        {
            g.Node("Cast", [input], output, OnnxGraphBuilder.Int("to", (long)type));
        }
    }

    private static void WriteVaeConfig(StandInOptions o, HashSet<StandInDefect> defects, string dir)
    {
        var config = new Dictionary<string, object>
        {
            ["_class_name"] = "AutoencoderKL", ["latent_channels"] = o.LatentChannels, ["in_channels"] = 3,
            ["block_out_channels"] = o.Architecture?.Vae.BlockOutChannels ?? Enumerable.Range(0, o.VaeBlocks).Select(i => 128 << Math.Min(i, 2)).ToArray(),
        };
        if (defects.Contains(StandInDefect.BadScalingFactor))
        {
            config["scaling_factor"] = "big";
        }
        else if (o.ScalingFactor is { } s)
        {
            config["scaling_factor"] = s;
        }
        WriteConfig(o, dir, config);
    }

    private static void WriteConfig(StandInOptions o, string dir, object config)
    {
        if (!o.OmitModelConfigs)
        {
            WriteJson(Path.Combine(dir, "config.json"), config);
        }
    }

    private static void WriteJson(string path, object value) =>
        File.WriteAllText(path, JsonSerializer.Serialize(value, new JsonSerializerOptions { WriteIndented = true }));
}
