namespace LatentIndigo.Invertible;

/// <summary>
/// Shape of a <see cref="LiftingInn"/> (algorithm.md §2). The defaults are the INDIGO+ pixel INN: RGB in [0,1],
/// offset 0.5, two levels (×4), two residual blocks per sub-network, width 32, a 128-d condition.
/// </summary>
public sealed record LiftingInnOptions
{
    /// <summary>Image channels: 3 for the pixel INN, 4 (or the model's latent channel count) for a latent INN.</summary>
    public int Channels { get; init; } = 3;

    /// <summary>Subtracted before and added back after the transform: 0.5 for images in [0,1], 0 for latents.</summary>
    public double Offset { get; init; } = 0.5;

    /// <summary>Number of split levels J; the coarse band is 2^J times smaller than the input in each direction.</summary>
    public int Levels { get; init; } = 2;

    /// <summary>Conditional residual blocks K in every predict/update sub-network (INDIGO+ uses 2).</summary>
    public int ResBlocks { get; init; } = 2;

    /// <summary>Feature channels inside the predict/update sub-networks (INDIGO+ uses 32).</summary>
    public int Width { get; init; } = 32;

    /// <summary>Length of the condition vector γ (the degradation embedding; 128 in INDIGO+).</summary>
    public int ConditionSize { get; init; } = 128;

    /// <summary>Lifting steps per scale. Fixed at 4 by the INDIGO+ architecture; not configurable.</summary>
    public const int LiftingSteps = 4;

    /// <summary>The INDIGO+ pixel INN: 3 channels, offset 0.5, J = 2, K = 2.</summary>
    public static LiftingInnOptions Pixel() => new();

    /// <summary>A latent INN of the same design: <paramref name="channels"/> channels, offset 0, J = 2, K = 2.</summary>
    public static LiftingInnOptions Latent(int channels = 4) => new() { Channels = channels, Offset = 0 };

    /// <summary>The size reduction of the coarse band, 2^<see cref="Levels"/>.</summary>
    public int ScaleFactor => 1 << Levels;

    /// <summary>
    /// The number of trainable scalars a network with these options has, counted from the architecture without building
    /// it (488,960 for <see cref="Pixel"/>): four lifting steps, each a predictor ResNet(C → 3C) and an updater ResNet(3C → C).
    /// </summary>
    internal long CountParameters()
    {
        long w = Width;
        long block = 2 * (w * w * 9 + w) + (ConditionSize * 64L + 64) + (64 * w + w);
        long ResNet(long inChannels, long outChannels) => inChannels * w * 9 + ResBlocks * block + w * outChannels * 9;
        return LiftingSteps * (ResNet(Channels, 3L * Channels) + ResNet(3L * Channels, Channels));
    }

    /// <summary>Throws <see cref="InvalidInnOptionsException"/> naming every value out of range.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (Channels < 1 || Channels > 1024)
        {
            problems.Add($"Channels = {Channels} (must be 1..1024; 3 for RGB, 4 for SD latents)");
        }
        if (double.IsNaN(Offset) || double.IsInfinity(Offset))
        {
            problems.Add($"Offset = {Offset} (must be finite; 0.5 for images in [0,1], 0 for latents)");
        }
        if (Levels < 0 || Levels > 8)
        {
            problems.Add($"Levels = {Levels} (must be 0..8; 2 for ×4)");
        }
        if (ResBlocks < 0 || ResBlocks > 64)
        {
            problems.Add($"ResBlocks = {ResBlocks} (must be 0..64; INDIGO+ uses 2)");
        }
        if (Width < 1 || Width > 4096)
        {
            problems.Add($"Width = {Width} (must be 1..4096; INDIGO+ uses 32)");
        }
        if (ConditionSize < 1 || ConditionSize > 65536)
        {
            problems.Add($"ConditionSize = {ConditionSize} (must be 1..65536; INDIGO+ uses 128)");
        }
        if (problems.Count > 0)
        {
            throw new InvalidInnOptionsException("Invalid LiftingInnOptions: " + string.Join("; ", problems) + ".");
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"channels={Channels}, offset={Offset}, levels={Levels}, resBlocks={ResBlocks}, width={Width}, conditionSize={ConditionSize}";
}
