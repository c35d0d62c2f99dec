using System.Text.Json;
using LatentIndigo.Weights;

namespace LatentIndigo.Diffusion.Import;

/// <summary>
/// A diffusers pipeline folder (<c>model_index.json</c>; <c>unet/</c>, <c>vae/</c>, <c>text_encoder/</c> with their
/// <c>config.json</c> and weights; <c>tokenizer/</c>; <c>scheduler/</c>) opened for import. Weights are read from
/// safetensors or <c>.bin</c> pickles, full precision preferred over the <c>fp16</c> variant when both are there.
/// </summary>
internal static class DiffusersFolder
{
    // Weight file names per component, in order of preference: full-precision safetensors, fp16 safetensors, pickles.
    private static readonly string[] DiffusersWeights =
        ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin"];

    private static readonly string[] TransformersWeights =
        ["model.safetensors", "model.fp16.safetensors", "pytorch_model.bin", "pytorch_model.fp16.bin"];

    /// <summary>Whether <paramref name="path"/> looks like a diffusers pipeline folder (has model_index.json and unet/).</summary>
    public static bool Is(string path) =>
        Directory.Exists(path) && File.Exists(Path.Combine(path, "model_index.json")) && Directory.Exists(Path.Combine(path, "unet"))
        && !File.Exists(Path.Combine(path, "unet", "model.onnx"));

    /// <summary>Reads the configs and opens the three weight files of <paramref name="folder"/>.</summary>
    public static SdImportSource Open(string folder, StableDiffusionImportOptions options)
    {
        CheckPipelineClass(folder);
        var configs = options.ConfigFolder ?? folder;
        var (unet, sampleSize) = DiffusersConfigs.ReadUnet(Path.Combine(configs, "unet", "config.json"));
        var (vae, scaling) = DiffusersConfigs.ReadVae(Path.Combine(configs, "vae", "config.json"));
        var text = DiffusersConfigs.ReadText(Path.Combine(configs, "text_encoder", "config.json"));
        var architecture = new SdModelDescription(unet, vae, text) { SampleSize = sampleSize, ScalingFactor = scaling };

        var schedulerPath = Path.Combine(folder, "scheduler", "scheduler_config.json");
        string? schedulerJson = File.Exists(schedulerPath) ? File.ReadAllText(schedulerPath) : null;
        PredictionType? prediction = null;
        if (schedulerJson is not null)
        {
            try
            {
                prediction = SchedulerConfig.Parse(schedulerJson).PredictionType;
            }
            catch (LatentIndigoException e)
            {
                throw new LatentIndigoException($"'{schedulerPath}': {e.Message}", e);
            }
        }
        var tokenizer = Path.Combine(folder, "tokenizer");

        var opened = new List<IWeightSource>();
        try
        {
            var notes = new List<string>();
            IWeightSource OpenComponent(string name, string[] candidates)
            {
                var dir = Path.Combine(folder, name);
                var file = candidates.Select(c => Path.Combine(dir, c)).FirstOrDefault(File.Exists);
                if (file is null)
                {
                    var sharded = Directory.Exists(dir) && Directory.EnumerateFiles(dir, "*.index.json").Any();
                    throw new LatentIndigoException(sharded
                        ? $"'{dir}' holds sharded weights (*.index.json), which are not read; Stable Diffusion 1.x/2.x components fit in one file."
                        : $"'{dir}' has no weights: expected one of {string.Join(", ", candidates)}.");
                }
                notes.Add($"{name}: {Path.GetFileName(file)}");
                var source = WeightFile.Open(file);
                opened.Add(source);
                return source;
            }
            var result = new SdImportSource
            {
                Origin = folder,
                Architecture = architecture,
                Unet = OpenComponent("unet", DiffusersWeights),
                Vae = OpenComponent("vae", DiffusersWeights),
                Text = OpenComponent("text_encoder", TransformersWeights),
                SchedulerConfigJson = schedulerJson,
                PredictionType = prediction,
                TokenizerFolder = File.Exists(Path.Combine(tokenizer, "vocab.json")) ? tokenizer : null,
            };
            result.Notes.Add($"diffusers folder '{folder}': {string.Join("; ", notes)}");
            if (options.ConfigFolder is not null)
            {
                result.Notes.Add($"configs from '{options.ConfigFolder}'");
            }
            return result;
        }
        catch
        {
            foreach (var source in opened)
            {
                source.Dispose();
            }
            throw;
        }
    }

    // model_index.json's pipeline class: SDXL, SD 3, inpainting and upscaling pipelines are refused by name.
    private static void CheckPipelineClass(string folder)
    {
        var path = Path.Combine(folder, "model_index.json");
        string? className;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            className = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("_class_name", out var c) && c.ValueKind == JsonValueKind.String
                ? c.GetString() : null;
        }
        catch (JsonException e)
        {
            throw new LatentIndigoException($"'{path}' is not valid JSON ({e.Message}).", e);
        }
        string? refused = className switch
        {
            null => null,
            _ when className.Contains("XL", StringComparison.Ordinal) => "an SDXL pipeline (two text encoders, added embeddings)",
            _ when className.Contains("StableDiffusion3", StringComparison.Ordinal) => "a Stable Diffusion 3 pipeline (an MMDiT, not a UNet)",
            _ when className.Contains("Inpaint", StringComparison.OrdinalIgnoreCase) => "an inpainting pipeline (a 9-channel UNet)",
            _ when className.Contains("Upscale", StringComparison.OrdinalIgnoreCase) => "an upscaling pipeline (a class-conditioned 7-channel UNet)",
            _ => null,
        };
        if (refused is not null)
        {
            throw new ModelImportException(folder, $"model_index.json names {className}: {refused}. LatentIndigo imports Stable Diffusion 1.x/2.x text-to-image models.", []);
        }
    }
}
