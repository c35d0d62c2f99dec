using LatentIndigo.Weights;

namespace LatentIndigo.Diffusion.Import;

/// <summary>
/// What an import reads, whatever the source's layout: the architecture, one diffusers-named weight source per
/// component, and what the source says about scheduling and tokenizing. Disposing it closes the weight files.
/// </summary>
internal sealed class SdImportSource : IDisposable
{
    /// <summary>The folder or file imported, for messages.</summary>
    public required string Origin { get; init; }

    /// <summary>The architecture assumed (from configs or inferred from shapes).</summary>
    public required SdModelDescription Architecture { get; init; }

    /// <summary>UNet tensors in diffusers' UNet2DConditionModel names.</summary>
    public required IWeightSource Unet { get; init; }

    /// <summary>VAE tensors in diffusers' AutoencoderKL names.</summary>
    public required IWeightSource Vae { get; init; }

    /// <summary>Text encoder tensors in transformers' CLIPTextModel names.</summary>
    public required IWeightSource Text { get; init; }

    /// <summary>The source's <c>scheduler_config.json</c> text, or null when it has none.</summary>
    public string? SchedulerConfigJson { get; init; }

    /// <summary>The prediction type the source states (scheduler config, YAML), or null when it cannot be known.</summary>
    public PredictionType? PredictionType { get; init; }

    /// <summary>A CLIP tokenizer folder of the source, or null.</summary>
    public string? TokenizerFolder { get; init; }

    /// <summary>What owns the weight sources when they are views (a single file), disposed with this.</summary>
    public IDisposable? Owner { get; init; }

    /// <summary>What was found and chosen, one line each, for the log.</summary>
    public List<string> Notes { get; } = [];

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var source in new[] { Unet, Vae, Text }.Distinct())
        {
            source.Dispose();
        }
        Owner?.Dispose();
    }
}
