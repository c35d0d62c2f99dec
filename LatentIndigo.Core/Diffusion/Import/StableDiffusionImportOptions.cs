using Microsoft.Extensions.Logging;

namespace LatentIndigo.Diffusion;

/// <summary>How <see cref="StableDiffusionImport"/> converts a diffusers folder or a single-file checkpoint.</summary>
public sealed record StableDiffusionImportOptions
{
    /// <summary>Weights and model inputs/outputs in float32 (default) or float16 (half the files; the graphs still compute in float32).</summary>
    public ModelPrecision Precision { get; init; } = ModelPrecision.Float32;

    /// <summary>
    /// What the UNet predicts. Null takes it from the source (a diffusers folder's scheduler config, a single file's
    /// YAML); an SD 2.x single file without one is refused: 768-pixel SD 2.x models are v_prediction, 512-pixel base
    /// models epsilon.
    /// </summary>
    public PredictionType? PredictionType { get; init; }

    /// <summary>Replace an existing output folder (otherwise an existing folder is an error and nothing is touched).</summary>
    public bool Force { get; init; }

    /// <summary>Single files holding trained and EMA weights (<c>model_ema.*</c>): use the EMA ones (default: the trained ones, as diffusers does).</summary>
    public bool UseEma { get; init; }

    /// <summary>A single file's original LDM inference YAML (e.g. <c>v1-inference.yaml</c>): heads, groups, prediction type.</summary>
    public string? OriginalConfigPath { get; init; }

    /// <summary>
    /// A diffusers folder whose <c>model_index.json</c> and component <c>config.json</c> files describe a single file's
    /// architecture (weights, if any, are ignored: they always come from the single file).
    /// </summary>
    public string? ConfigFolder { get; init; }

    /// <summary>
    /// A CLIP tokenizer folder (vocab.json, merges.txt) to copy into the output; single files carry none, and without
    /// one the output gets a tokenizer that supports only the empty prompt.
    /// </summary>
    public string? TokenizerFolder { get; init; }

    /// <summary>Where <see cref="StableDiffusionImport.ConvertCached"/> keeps conversions; null: <see cref="StableDiffusionImport.DefaultCacheFolder"/>.</summary>
    public string? CacheFolder { get; init; }

    /// <summary>Where notes go (what was found, inferred, chosen); null logs nothing.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Checks the options (files and folders named exist).</summary>
    /// <exception cref="LatentIndigoException">An option is invalid; the message says which and why.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Precision))
        {
            throw new LatentIndigoException($"Precision {Precision} is not Float32 or Float16.");
        }
        if (PredictionType is { } p && p != Diffusion.PredictionType.Epsilon && p != Diffusion.PredictionType.VPrediction)
        {
            throw new LatentIndigoException($"PredictionType '{p}' is not one a Stable Diffusion 1.x/2.x UNet is trained for: use epsilon or v_prediction.");
        }
        if (OriginalConfigPath is { } yaml && !File.Exists(yaml))
        {
            throw new LatentIndigoException($"OriginalConfigPath '{yaml}' does not exist (it is the checkpoint's LDM inference YAML, e.g. v1-inference.yaml).");
        }
        if (ConfigFolder is { } config && !Directory.Exists(config))
        {
            throw new LatentIndigoException($"ConfigFolder '{config}' is not a folder (it is a diffusers pipeline folder with model_index.json and component config.json files).");
        }
        if (TokenizerFolder is { } tokenizer && !(File.Exists(Path.Combine(tokenizer, "vocab.json")) && File.Exists(Path.Combine(tokenizer, "merges.txt"))))
        {
            throw new LatentIndigoException($"TokenizerFolder '{tokenizer}' needs vocab.json and merges.txt (a CLIP tokenizer folder, e.g. a diffusers pipeline's tokenizer/).");
        }
    }
}
