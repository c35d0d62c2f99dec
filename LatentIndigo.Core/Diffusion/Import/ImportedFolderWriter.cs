using System.Text.Json;
using System.Text.Json.Nodes;
using LatentIndigo.Diffusion.Architecture;
using DataType = Onnx.TensorProto.Types.DataType;

namespace LatentIndigo.Diffusion.Import;

/// <summary>
/// Writes an export folder in the layout the library loads (unet/, vae_encoder/ with the posterior mean, vae_decoder/,
/// text_encoder/, each model.onnx + weights.pb + config.json; tokenizer/; scheduler/scheduler_config.json;
/// model_index.json) from matched checkpoint weights. Weights are converted and written one tensor at a time.
/// </summary>
internal static class ImportedFolderWriter
{
    /// <summary>The marker <see cref="EmptyPromptTokenizer"/> writes into tokenizer_config.json.</summary>
    public const string EmptyPromptOnlyKey = "latentindigo_empty_prompt_only";

    /// <summary>Writes the four models; <paramref name="starting"/> hears each model's name before it is written.</summary>
    public static void WriteModels(string folder, SdModelDescription a, CheckpointWeights unet, CheckpointWeights vae, CheckpointWeights text, bool fp16,
        Action<string> starting)
    {
        // optimum's contract: int64 timestep per batch item, int32 ids; the encoder outputs the posterior mean, so
        // encoding is deterministic. Weights always in external data (an SD UNet in fp32 is over protobuf's 2 GB).
        var contract = new SdExportContract(DataType.Int64, SdTimestepShape.Batch, SdEncoderOutput.Mean, Int64Ids: false, ExternalData: true, Float16Weights: fp16);
        var io = fp16 ? DataType.Float16 : DataType.Float;
        starting("unet");
        ArchitectureModels.WriteUnet(contract, a.Unet, a.Text.MaxPositions, unet, Path.Combine(folder, "unet"), io);
        starting("vae_encoder");
        ArchitectureModels.WriteVaeEncoder(contract, a.Vae, vae, Path.Combine(folder, "vae_encoder"), io);
        starting("vae_decoder");
        ArchitectureModels.WriteVaeDecoder(contract, a.Vae, vae, Path.Combine(folder, "vae_decoder"), io);
        starting("text_encoder");
        ArchitectureModels.WriteTextEncoder(contract, a.Text, text, Path.Combine(folder, "text_encoder"), io);
    }

    public static void WriteConfigs(string folder, SdModelDescription a, string origin, bool fp16)
    {
        var u = a.Unet;
        WriteJson(Path.Combine(folder, "unet", "config.json"), new JsonObject
        {
            ["_class_name"] = "UNet2DConditionModel", ["in_channels"] = u.LatentChannels, ["out_channels"] = u.LatentChannels,
            ["sample_size"] = a.SampleSize, ["cross_attention_dim"] = u.CrossAttentionDim, ["block_out_channels"] = Array(u.BlockOutChannels),
            ["layers_per_block"] = u.LayersPerBlock,
            // diffusers' name for the heads per level (see DiffusersConfigs.ReadUnet).
            ["attention_head_dim"] = Array(Enumerable.Range(0, u.BlockOutChannels.Length).Select(u.HeadsAtLevel)),
            ["use_linear_projection"] = u.LinearProjection, ["upcast_attention"] = u.UpcastAttention, ["norm_num_groups"] = u.NormGroups,
        });
        foreach (var model in new[] { "vae_encoder", "vae_decoder" })
        {
            WriteJson(Path.Combine(folder, model, "config.json"), new JsonObject
            {
                ["_class_name"] = "AutoencoderKL", ["in_channels"] = 3, ["out_channels"] = 3, ["latent_channels"] = a.Vae.LatentChannels,
                ["block_out_channels"] = Array(a.Vae.BlockOutChannels), ["layers_per_block"] = a.Vae.LayersPerBlock,
                ["norm_num_groups"] = a.Vae.NormGroups, ["scaling_factor"] = a.ScalingFactor, ["sample_size"] = a.SampleSize * a.Vae.DownscaleFactor,
            });
        }
        var t = a.Text;
        WriteJson(Path.Combine(folder, "text_encoder", "config.json"), new JsonObject
        {
            ["_class_name"] = "CLIPTextModel", ["architectures"] = new JsonArray("CLIPTextModel"), ["hidden_size"] = t.Hidden,
            ["num_hidden_layers"] = t.Layers, ["num_attention_heads"] = t.Heads, ["intermediate_size"] = t.Intermediate,
            ["hidden_act"] = t.QuickGelu ? "quick_gelu" : "gelu", ["max_position_embeddings"] = t.MaxPositions, ["vocab_size"] = t.VocabularySize,
            ["layer_norm_eps"] = t.LayerNormEps,
        });
        WriteJson(Path.Combine(folder, "model_index.json"), new JsonObject
        {
            ["_class_name"] = "OnnxStableDiffusionPipeline", ["_diffusers_version"] = "0.30.0",
            ["_latentindigo_import"] = $"imported by LatentIndigo {LibraryInfo.Version} from {Path.GetFileName(Path.TrimEndingDirectorySeparator(origin))} ({a.Family}, {(fp16 ? "fp16" : "fp32")})",
            ["unet"] = Pair("diffusers", "OnnxRuntimeModel"), ["vae_encoder"] = Pair("diffusers", "OnnxRuntimeModel"),
            ["vae_decoder"] = Pair("diffusers", "OnnxRuntimeModel"), ["text_encoder"] = Pair("diffusers", "OnnxRuntimeModel"),
            ["tokenizer"] = Pair("transformers", "CLIPTokenizer"), ["scheduler"] = Pair("diffusers", "DDIMScheduler"),
        });
    }

    /// <summary>
    /// The scheduler config: the source's (or SD's DDIM defaults) with the prediction type chosen and the two settings
    /// diffusers' SD pipelines impose (steps_offset 1, clip_sample false), so loading the export warns about nothing.
    /// </summary>
    public static void WriteScheduler(string folder, string? sourceJson, PredictionType prediction)
    {
        var config = sourceJson is null ? null : JsonNode.Parse(sourceJson) as JsonObject;
        config ??= new JsonObject
        {
            ["_class_name"] = "DDIMScheduler", ["beta_start"] = 0.00085, ["beta_end"] = 0.012, ["beta_schedule"] = "scaled_linear",
            ["num_train_timesteps"] = 1000, ["set_alpha_to_one"] = false, ["timestep_spacing"] = "leading", ["trained_betas"] = null,
        };
        config["prediction_type"] = prediction.Value;
        config["steps_offset"] = 1;
        config["clip_sample"] = false;
        var text = config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        SchedulerConfig.Parse(text); // what the library will load must parse
        Directory.CreateDirectory(Path.Combine(folder, "scheduler"));
        File.WriteAllText(Path.Combine(folder, "scheduler", "scheduler_config.json"), text);
    }

    /// <summary>Copies a CLIP tokenizer folder's files (not sub-folders).</summary>
    public static void CopyTokenizer(string from, string folder)
    {
        var to = Directory.CreateDirectory(Path.Combine(folder, "tokenizer")).FullName;
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    /// <summary>
    /// A tokenizer that encodes only the empty prompt (start, end and padding tokens at CLIP's ids): single files carry
    /// no tokenizer, and restoration runs with the empty prompt by default. The library refuses any other prompt with a
    /// message saying how to add a real tokenizer.
    /// </summary>
    public static void EmptyPromptTokenizer(string folder, SdModelDescription a)
    {
        var to = Directory.CreateDirectory(Path.Combine(folder, "tokenizer")).FullName;
        // SD 2.x's OpenCLIP tokenizer pads with "!" (id 0), SD 1.x's with <|endoftext|>.
        string pad = a.Family == "SD 2.x" ? "!" : "<|endoftext|>";
        WriteJson(Path.Combine(to, "vocab.json"), new JsonObject { ["!"] = 0, ["<|startoftext|>"] = 49406, ["<|endoftext|>"] = 49407 });
        File.WriteAllText(Path.Combine(to, "merges.txt"), "#version: 0.2\n");
        WriteJson(Path.Combine(to, "tokenizer_config.json"), new JsonObject
        {
            ["pad_token"] = pad, ["model_max_length"] = a.Text.MaxPositions, [EmptyPromptOnlyKey] = true,
        });
    }

    private static JsonArray Array(IEnumerable<int> values) => new([.. values.Select(v => (JsonNode)v)]);

    private static JsonArray Pair(string library, string type) => new(library, type);

    private static void WriteJson(string path, JsonNode node)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
