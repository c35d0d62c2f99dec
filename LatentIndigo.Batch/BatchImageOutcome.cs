using LatentIndigo.Evaluation;

namespace LatentIndigo.Batch;

/// <summary>One restored image of a batch: the PNG bytes to write and what the restoration measured.</summary>
public sealed record BatchImageOutcome
{
    /// <summary>The output, PNG-encoded. The same input, settings and models give the same bytes.</summary>
    public required byte[] Png { get; init; }

    /// <summary>SHA-256 of <see cref="Png"/>, lower-case hex.</summary>
    public required string Sha256 { get; init; }

    /// <summary>Output size in pixels.</summary>
    public int Width { get; init; }

    /// <inheritdoc cref="Width"/>
    public int Height { get; init; }

    /// <summary>Time of the restoration itself and of its UNet, VAE and INN parts.</summary>
    public TimeSpan RestoreTime { get; init; }

    /// <inheritdoc cref="RestoreTime"/>
    public TimeSpan UnetTime { get; init; }

    /// <inheritdoc cref="RestoreTime"/>
    public TimeSpan VaeTime { get; init; }

    /// <inheritdoc cref="RestoreTime"/>
    public TimeSpan InnTime { get; init; }

    /// <summary>How well the output re-degrades to the input under the INN (dB), when computed.</summary>
    public double? CoarsePsnr { get; init; }

    /// <summary>Re-degradation PSNR under the known degradation (dB), when known.</summary>
    public double? MeasurementPsnr { get; init; }

    /// <summary>Scores against the ground truth, when one was given.</summary>
    public EvaluationScores? Scores { get; init; }
}
