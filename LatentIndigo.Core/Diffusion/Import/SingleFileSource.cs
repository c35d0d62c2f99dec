namespace LatentIndigo.Diffusion.Import;

/// <summary>
/// A single-file checkpoint (CompVis/LDM layout, <c>.safetensors</c> or <c>.ckpt</c>) opened for import through
/// <see cref="SingleFileCheckpoint"/>: the architecture inferred from shapes (heads, groups and the prediction type from
/// the options, the LDM YAML or the published SD 1.x/2.x values), or described by a diffusers folder's configs
/// (<see cref="StableDiffusionImportOptions.ConfigFolder"/>), whose scheduler and tokenizer are used too when present.
/// </summary>
internal static class SingleFileSource
{
    public static SdImportSource Open(string path, StableDiffusionImportOptions options)
    {
        string? config = options.ConfigFolder;
        string? schedulerJson = null;
        PredictionType? configPrediction = null;
        if (config is not null && Path.Combine(config, "scheduler", "scheduler_config.json") is var schedulerPath && File.Exists(schedulerPath))
        {
            schedulerJson = File.ReadAllText(schedulerPath);
            configPrediction = ParsePrediction(schedulerJson, schedulerPath);
        }
        var checkpoint = SingleFileCheckpoint.Open(path, new SingleFileOptions
        {
            UseEma = options.UseEma,
            PredictionType = options.PredictionType ?? configPrediction,
            OriginalConfigPath = options.OriginalConfigPath,
        }, options.Logger);
        try
        {
            var inferred = new SdModelDescription(checkpoint.UnetConfig, checkpoint.VaeConfig, checkpoint.TextConfig)
            {
                // 768-pixel SD 2.x models (v-prediction) have 96-latent UNets; everything else 64.
                SampleSize = checkpoint.Family == StableDiffusionFamily.Sd2 && checkpoint.PredictionType == PredictionType.VPrediction ? 96 : 64,
            };
            var architecture = inferred;
            var notes = new List<string>
            {
                $"single file '{path}'{(checkpoint.HasEma ? $" (trained and EMA UNet weights; using the {(checkpoint.UsesEma ? "EMA" : "trained")} ones)" : "")}",
            };
            if (config is not null)
            {
                // The configs describe the architecture; the weights (checked against it before writing) come from the file.
                var (unet, sampleSize) = DiffusersConfigs.ReadUnet(Path.Combine(config, "unet", "config.json"));
                var (vae, scaling) = DiffusersConfigs.ReadVae(Path.Combine(config, "vae", "config.json"));
                var text = DiffusersConfigs.ReadText(Path.Combine(config, "text_encoder", "config.json"));
                architecture = new SdModelDescription(unet, vae, text) { SampleSize = sampleSize, ScalingFactor = scaling };
                notes.Add($"architecture from the configs in '{config}'");
            }
            else
            {
                notes.Add("architecture inferred from the tensor shapes; heads and norm groups "
                    + (options.OriginalConfigPath is null ? $"are {architecture.Family}'s published values" : $"from '{options.OriginalConfigPath}'"));
            }
            var tokenizer = config is not null && File.Exists(Path.Combine(config, "tokenizer", "vocab.json")) ? Path.Combine(config, "tokenizer") : null;
            var source = new SdImportSource
            {
                Origin = path,
                Architecture = architecture,
                Unet = checkpoint.Unet,
                Vae = checkpoint.Vae,
                Text = checkpoint.TextEncoder,
                SchedulerConfigJson = schedulerJson,
                PredictionType = checkpoint.PredictionType,
                TokenizerFolder = tokenizer,
                Owner = checkpoint,
            };
            source.Notes.AddRange(notes);
            return source;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    private static PredictionType ParsePrediction(string json, string path)
    {
        try
        {
            return SchedulerConfig.Parse(json).PredictionType;
        }
        catch (LatentIndigoException e)
        {
            throw new LatentIndigoException($"'{path}': {e.Message}", e);
        }
    }
}
