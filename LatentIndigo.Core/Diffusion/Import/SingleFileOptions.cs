namespace LatentIndigo.Diffusion.Import;

/// <summary>What a user may tell the single-file reader that tensor shapes cannot (diffusers' from_single_file takes the same).</summary>
internal sealed record SingleFileOptions
{
    /// <summary>Use the EMA copy of the UNet (<c>model_ema.*</c>) when the file holds both; the trained weights otherwise, as diffusers does.</summary>
    public bool UseEma { get; init; }

    /// <summary>The prediction type; required for SD 2.x unless the original config's <c>parameterization</c> gives it.</summary>
    public PredictionType? PredictionType { get; init; }

    /// <summary>The checkpoint's LDM inference YAML (<c>--original-config</c>): heads, parameterization, text layer.</summary>
    public string? OriginalConfigPath { get; init; }

    /// <summary>
    /// The depth of the full OpenCLIP text tower (ViT-H/14: 24). A file carrying all of it gives SD 2.x's text encoder
    /// without its last block (SD 2.x uses the penultimate output); a file carrying one block fewer is used whole.
    /// Tests set a tiny depth.
    /// </summary>
    internal int OpenClipFullLayers { get; init; } = 24;
}
