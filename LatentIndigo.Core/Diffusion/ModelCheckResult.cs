namespace LatentIndigo.Diffusion;

/// <summary>One timed call of <see cref="StableDiffusionModels.Check"/>.</summary>
public sealed class ModelCheckStage
{
    internal ModelCheckStage(string name, TimeSpan duration)
    {
        Name = name;
        Duration = duration;
    }

    /// <summary>What ran, e.g. "VAE encode".</summary>
    public string Name { get; }

    /// <summary>Its wall time.</summary>
    public TimeSpan Duration { get; }
}

/// <summary>
/// What <see cref="StableDiffusionModels.Check"/> found: facts about the export as loaded, the time of each model
/// call, and whether the outputs are usable. A consumer prints it; it holds no tensors and no reference to the models.
/// </summary>
public sealed class ModelCheckResult
{
    internal ModelCheckResult() { }

    /// <summary>Facts about the export as loaded (name, value), in display order.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Facts { get; init; }

    /// <summary>Each model call in the order it ran (the first UNet step includes warm-up; then the median of five).</summary>
    public required IReadOnlyList<ModelCheckStage> Stages { get; init; }

    /// <summary>False when one sampler step on the UNet's output gave NaN or infinite latents.</summary>
    public required bool StepIsFinite { get; init; }

    /// <summary>Shape of the decoded test image, [1, 3, size, size] for a working VAE.</summary>
    public required IReadOnlyList<long> DecodedShape { get; init; }

    /// <summary>Mean |decode(encode(x)) − x| over the test image, in [0, 1] units.</summary>
    public required double VaeRoundTripError { get; init; }
}
