using LatentIndigo.Evaluation;

namespace LatentIndigo.Batch;

/// <summary>One image of a batch as the journal records it.</summary>
public sealed record BatchImageRecord
{
    /// <summary>The input file.</summary>
    public required string InputPath { get; init; }

    /// <summary>The ground-truth file, or null.</summary>
    public string? GroundTruthPath { get; init; }

    /// <summary>The output file (in the output folder).</summary>
    public required string OutputPath { get; init; }

    /// <summary>The state.</summary>
    public BatchImageState State { get; init; }

    /// <summary>How many times a restore of this image was started.</summary>
    public int Attempts { get; init; }

    /// <summary>The failure message of the last attempt, or null.</summary>
    public string? Error { get; init; }

    /// <summary>SHA-256 of the output file (lower-case hex), once done.</summary>
    public string? OutputSha256 { get; init; }

    /// <summary>When the last attempt started and finished (UTC).</summary>
    public DateTime? StartedUtc { get; init; }

    /// <inheritdoc cref="StartedUtc"/>
    public DateTime? FinishedUtc { get; init; }

    /// <summary>Wall time of the last attempt: load, restore, encode, score and write.</summary>
    public TimeSpan? Time { get; init; }

    /// <summary>Time in the UNet, the VAE and the INNs (from <see cref="Pipeline.RestoreResult"/>).</summary>
    public TimeSpan? UnetTime { get; init; }

    /// <inheritdoc cref="UnetTime"/>
    public TimeSpan? VaeTime { get; init; }

    /// <inheritdoc cref="UnetTime"/>
    public TimeSpan? InnTime { get; init; }

    /// <summary>How well the output re-degrades to the input under the INN (dB), when computed.</summary>
    public double? CoarsePsnr { get; init; }

    /// <summary>PSNR of the output re-degraded by the known degradation against the input (dB), when known.</summary>
    public double? MeasurementPsnr { get; init; }

    /// <summary>Scores against the ground truth, when one was given.</summary>
    public EvaluationScores? Scores { get; init; }

    /// <summary>The output's size in pixels, once done.</summary>
    public int? Width { get; init; }

    /// <inheritdoc cref="Width"/>
    public int? Height { get; init; }
}
