using System.Text.Json;
using LatentIndigo.Diffusion.Import;
using LatentIndigo.Onnx;
using LatentIndigo.StandIns;
using LatentIndigo.Weights;

namespace LatentIndigo.Tests.Diffusion.Import;

/// <summary>How a test's diffusers folder stores its weights.</summary>
internal enum TinyWeightFormat
{
    /// <summary>diffusion_pytorch_model.safetensors / model.safetensors.</summary>
    Safetensors,

    /// <summary>The fp16 variant's names (diffusion_pytorch_model.fp16.safetensors), whatever the dtype.</summary>
    SafetensorsFp16Variant,

    /// <summary>diffusion_pytorch_model.bin / pytorch_model.bin (torch.save zip pickles).</summary>
    Bin,
}

/// <summary>
/// Writes a tiny diffusers pipeline folder (model_index.json, unet/, vae/, text_encoder/ with config.json and weights,
/// tokenizer/, scheduler/) in the published layout, with random weights drawn by name, and keeps the values exactly
/// as the files hold them (rounded to the stored dtype here, independently of the library's writer) for the float64
/// reference (<c>TinyDiffusersFolderReferences</c>). Also compiled into LatentIndigo.Web.Tests (linked, for the web
/// demo's <c>--model</c> tests), so it uses only the library and the stand-ins, not this project's other helpers.
/// </summary>
internal sealed class TinyDiffusersFolder : IDisposable
{
    private TinyDiffusersFolder(string path, StandInArchitecture architecture, Dictionary<string, (long[] Shape, double[] Values)> weights)
    {
        Path = path;
        Architecture = architecture;
        Weights = weights;
    }

    public string Path { get; }

    public StandInArchitecture Architecture { get; }

    /// <summary>Every parameter in diffusers/transformers names with the values the checkpoint holds.</summary>
    public Dictionary<string, (long[] Shape, double[] Values)> Weights { get; }

    /// <summary>SD 1.x-shaped tiny model: 1×1-convolution proj_in, two heads at every level, quick GELU.</summary>
    public static StandInArchitecture Sd1Tiny { get; } = new(
        SdUnetConfig.Tiny with { LinearProjection = false, HeadDim = null, Heads = 2, HeadsPerLevel = [2, 2] },
        SdVaeConfig.Tiny, ClipTextConfig.Tiny with { QuickGelu = true }, Seed: 11);

    /// <summary>SD 2.x-shaped tiny model: linear proj_in, per-level heads [2, 4] (8-channel heads), upcast attention, GELU, 3 layers.</summary>
    public static StandInArchitecture Sd2Tiny { get; } = new(
        SdUnetConfig.Tiny with { LinearProjection = true, HeadDim = null, Heads = 2, HeadsPerLevel = [2, 4], UpcastAttention = true },
        SdVaeConfig.Tiny, ClipTextConfig.Tiny with { QuickGelu = false, Layers = 3 }, Seed: 12);

    /// <summary>Writes the folder under the temp directory.</summary>
    /// <param name="architecture">The model's shape.</param>
    /// <param name="format">File format of the weights.</param>
    /// <param name="dtype">Stored element type (Float32, Float16 or BFloat16).</param>
    /// <param name="predictionType">scheduler_config.json's prediction_type; null writes no scheduler folder.</param>
    /// <param name="oldVaeAttentionNames">Name the VAE attention query/key/value/proj_attn as older diffusers folders do.</param>
    /// <param name="vaeAttentionAsConv">Store the VAE attention matrices as [C, C, 1, 1] convolutions.</param>
    /// <param name="tokenizer">Write tokenizer/ (single files and some folders have none).</param>
    /// <param name="edit">Last changes to the tensors (component, name → values) before writing: drop or add keys.</param>
    public static TinyDiffusersFolder Create(StandInArchitecture architecture, TinyWeightFormat format = TinyWeightFormat.Safetensors,
        WeightDType dtype = WeightDType.Float32, string? predictionType = "epsilon", bool oldVaeAttentionNames = false,
        bool vaeAttentionAsConv = false, bool tokenizer = true, Action<string, Dictionary<string, (long[] Shape, float[] Values)>>? edit = null)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "latentindigo-diffusers-" + Guid.NewGuid().ToString("N")[..12]);
        var all = new Dictionary<string, (long[] Shape, double[] Values)>(StringComparer.Ordinal);
        var a = architecture;
        var seedWeights = a.Weights;

        void Component(string name, string[] fileNames, Action<SdGraphLayers> build, Func<string, string> rename, object config)
        {
            var recorder = new Recorder(seedWeights);
            build(new SdGraphLayers(new OnnxGraphBuilder("record"), recorder));
            var stored = new Dictionary<string, (long[] Shape, float[] Values)>(StringComparer.Ordinal);
            foreach (var (tensor, (shape, values)) in recorder.Tensors)
            {
                var rounded = values.Select(v => Round(v, dtype)).ToArray();
                all[tensor] = (shape, rounded.Select(v => (double)v).ToArray());
                var fileShape = vaeAttentionAsConv && IsVaeAttentionMatrix(tensor) ? [shape[0], shape[1], 1, 1] : shape;
                stored[rename(tensor)] = (fileShape, rounded);
            }
            edit?.Invoke(name, stored);
            var dir = Directory.CreateDirectory(System.IO.Path.Combine(path, name)).FullName;
            var file = System.IO.Path.Combine(dir, fileNames[format switch { TinyWeightFormat.Safetensors => 0, TinyWeightFormat.SafetensorsFp16Variant => 1, _ => 2 }]);
            var tensors = stored.Select(kv => (new WeightInfo(kv.Key, dtype, kv.Value.Shape), kv.Value.Values)).ToList();
            if (format == TinyWeightFormat.Bin)
            {
                TorchCheckpointWriter.WriteFile(file, tensors);
            }
            else
            {
                SafetensorsWriter.WriteFile(file, tensors, new Dictionary<string, string> { ["format"] = "pt" });
            }
            File.WriteAllText(System.IO.Path.Combine(dir, "config.json"), JsonSerializer.Serialize(config));
        }

        var u = a.Unet;
        int levels = u.BlockOutChannels.Length;
        Component("unet", ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.bin"],
            l => SdUnetGraph.Build(l, u, "sample", "t", "text"), n => n, new Dictionary<string, object?>
            {
                ["_class_name"] = "UNet2DConditionModel", ["_diffusers_version"] = "0.27.0", ["act_fn"] = "silu", ["addition_embed_type"] = null,
                ["attention_head_dim"] = Enumerable.Range(0, levels).Select(u.HeadsAtLevel).ToArray(), ["block_out_channels"] = u.BlockOutChannels,
                ["center_input_sample"] = false, ["class_embed_type"] = null, ["cross_attention_dim"] = u.CrossAttentionDim,
                ["down_block_types"] = Enumerable.Range(0, levels).Select(i => i < levels - 1 ? "CrossAttnDownBlock2D" : "DownBlock2D").ToArray(),
                ["downsample_padding"] = 1, ["dual_cross_attention"] = false, ["flip_sin_to_cos"] = true, ["freq_shift"] = 0, ["in_channels"] = 4,
                ["layers_per_block"] = u.LayersPerBlock, ["mid_block_scale_factor"] = 1, ["norm_eps"] = 1e-05, ["norm_num_groups"] = u.NormGroups,
                ["num_class_embeds"] = null, ["only_cross_attention"] = false, ["out_channels"] = 4, ["sample_size"] = 64,
                ["up_block_types"] = Enumerable.Range(0, levels).Select(i => i == 0 ? "UpBlock2D" : "CrossAttnUpBlock2D").ToArray(),
                ["use_linear_projection"] = u.LinearProjection, ["upcast_attention"] = u.UpcastAttention,
            });
        var v = a.Vae;
        Component("vae", ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.bin"],
            l =>
            {
                SdVaeGraphs.Encoder(l, v, "image");
                SdVaeGraphs.Decoder(l, v, "latents");
            },
            n => oldVaeAttentionNames ? OldVaeName(n) : n, new Dictionary<string, object?>
            {
                ["_class_name"] = "AutoencoderKL", ["act_fn"] = "silu", ["block_out_channels"] = v.BlockOutChannels,
                ["down_block_types"] = Enumerable.Repeat("DownEncoderBlock2D", v.BlockOutChannels.Length).ToArray(),
                ["up_block_types"] = Enumerable.Repeat("UpDecoderBlock2D", v.BlockOutChannels.Length).ToArray(),
                ["in_channels"] = 3, ["out_channels"] = 3, ["latent_channels"] = 4, ["layers_per_block"] = v.LayersPerBlock,
                ["norm_num_groups"] = v.NormGroups, ["sample_size"] = 64, ["scaling_factor"] = 0.18215,
            });
        var t = a.Text;
        Component("text_encoder", ["model.safetensors", "model.fp16.safetensors", "pytorch_model.bin"],
            l => ClipTextGraph.Build(l, t, "ids"), n => n, new Dictionary<string, object?>
            {
                ["architectures"] = new[] { "CLIPTextModel" }, ["model_type"] = "clip_text_model", ["hidden_act"] = t.QuickGelu ? "quick_gelu" : "gelu",
                ["hidden_size"] = t.Hidden, ["intermediate_size"] = t.Intermediate, ["num_attention_heads"] = t.Heads,
                ["num_hidden_layers"] = t.Layers, ["max_position_embeddings"] = 77, ["vocab_size"] = t.VocabularySize, ["layer_norm_eps"] = 1e-05,
                ["torch_dtype"] = "float32",
            });
        if (tokenizer)
        {
            StandInTokenizerFiles.Write(System.IO.Path.Combine(path, "tokenizer"), t.QuickGelu ? null : StandInTokenizerFiles.Sd2PadToken);
        }
        if (predictionType is not null)
        {
            Directory.CreateDirectory(System.IO.Path.Combine(path, "scheduler"));
            // As SD 1.5's file has it: PNDM, steps_offset 1, clip_sample false… here DDIM's own defaults the importer must fix.
            File.WriteAllText(System.IO.Path.Combine(path, "scheduler", "scheduler_config.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["_class_name"] = "PNDMScheduler", ["beta_end"] = 0.012, ["beta_schedule"] = "scaled_linear", ["beta_start"] = 0.00085,
                ["num_train_timesteps"] = 1000, ["prediction_type"] = predictionType, ["set_alpha_to_one"] = false, ["skip_prk_steps"] = true,
                ["steps_offset"] = 0, ["clip_sample"] = true, ["trained_betas"] = null,
            }));
        }
        File.WriteAllText(System.IO.Path.Combine(path, "model_index.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["_class_name"] = "StableDiffusionPipeline", ["_diffusers_version"] = "0.27.0", ["feature_extractor"] = new[] { "transformers", "CLIPImageProcessor" },
            ["safety_checker"] = new string?[] { null, null }, ["scheduler"] = new[] { "diffusers", "PNDMScheduler" },
            ["text_encoder"] = new[] { "transformers", "CLIPTextModel" }, ["tokenizer"] = new[] { "transformers", "CLIPTokenizer" },
            ["unet"] = new[] { "diffusers", "UNet2DConditionModel" }, ["vae"] = new[] { "diffusers", "AutoencoderKL" },
        }));
        return new TinyDiffusersFolder(path, a, all);
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }

    // float32 → the stored type → float32: fp16 by .NET's Half (round to nearest even), bf16 by keeping the upper 16
    // bits after round-to-nearest-even on the lower 16.
    private static float Round(float value, WeightDType dtype) => dtype switch
    {
        WeightDType.Float16 => (float)(Half)value,
        WeightDType.BFloat16 => BitConverter.Int32BitsToSingle((int)((((uint)BitConverter.SingleToInt32Bits(value) + 0x7FFFu + (((uint)BitConverter.SingleToInt32Bits(value) >> 16) & 1u)) >> 16) << 16)),
        _ => value,
    };

    private static bool IsVaeAttentionMatrix(string name) =>
        name.Contains(".mid_block.attentions.0.", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal) && !name.Contains("group_norm", StringComparison.Ordinal);

    private static string OldVaeName(string name) => name
        .Replace("attentions.0.to_q.", "attentions.0.query.", StringComparison.Ordinal)
        .Replace("attentions.0.to_k.", "attentions.0.key.", StringComparison.Ordinal)
        .Replace("attentions.0.to_v.", "attentions.0.value.", StringComparison.Ordinal)
        .Replace("attentions.0.to_out.0.", "attentions.0.proj_attn.", StringComparison.Ordinal);

    // Draws each parameter from the stand-in weights by name and keeps it.
    private sealed class Recorder(ISdWeights inner) : ISdWeights
    {
        public List<(string Name, (long[] Shape, float[] Values) Tensor)> Tensors { get; } = [];

        public float[] Read(string name, long[] shape, SdTensorRole role)
        {
            var values = inner.Read(name, shape, role);
            Tensors.Add((name, (shape, values)));
            return values;
        }
    }
}
