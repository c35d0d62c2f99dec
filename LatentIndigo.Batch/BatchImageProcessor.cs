using System.Security.Cryptography;
using LatentIndigo.Evaluation;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Batch;

/// <summary>
/// The work on one image of a batch, from encoded bytes to PNG bytes: decode, restore, encode, hash and (with ground
/// truth) score. The local batch and the cluster workers both call this, so both write the same bytes for an image.
/// </summary>
public static class BatchImageProcessor
{
    /// <summary>Restores one encoded image.</summary>
    /// <param name="restorer">What restores.</param>
    /// <param name="input">The encoded low-quality image (PNG, JPEG, WebP, BMP).</param>
    /// <param name="sourceName">A name for messages (path or URI).</param>
    /// <param name="options">The restoration settings.</param>
    /// <param name="groundTruth">The encoded ground truth, or null: the output (8-bit, as saved) is scored against it, mod-cropped to the scale.</param>
    /// <param name="progress">Per-step progress, or null.</param>
    /// <param name="cancellationToken">Cancels the restoration.</param>
    /// <exception cref="ImageLoadException">An image cannot be decoded.</exception>
    /// <exception cref="BatchInputException">The ground truth is not the output's size.</exception>
    public static async Task<BatchImageOutcome> RestoreAsync(IBatchRestorer restorer, byte[] input, string sourceName, RestoreOptions options,
        byte[]? groundTruth = null, IProgress<RestoreProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(restorer);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        using var lowQuality = ImageIO.Decode(input, sourceName);
        using var result = await restorer.RestoreAsync(lowQuality, options, progress, cancellationToken).ConfigureAwait(false);
        byte[] png = ImageIO.Encode(result.Image, ImageFileFormat.Png);
        EvaluationScores? scores = null;
        if (groundTruth is not null)
        {
            using var truth = ImageIO.Decode(groundTruth, sourceName + " (ground truth)");
            using var cropped = ImageEvaluator.ModCrop(truth, options.ScaleFactor);
            if (!cropped.shape.SequenceEqual(result.Image.shape))
            {
                throw new BatchInputException(
                    $"The ground truth of '{sourceName}' is {truth.shape[3]}×{truth.shape[2]}, but the output is {result.Image.shape[3]}×{result.Image.shape[2]}: give the high-quality image the input was made from.");
            }
            scores = ImageEvaluator.Score(result.Image, cropped, lowQuality, options.ScaleFactor, options.KnownDegradation, options.Seed);
        }
        return new BatchImageOutcome
        {
            Png = png,
            Sha256 = Convert.ToHexString(SHA256.HashData(png)).ToLowerInvariant(),
            Width = (int)result.Image.shape[3],
            Height = (int)result.Image.shape[2],
            RestoreTime = result.Total,
            UnetTime = result.UnetTime,
            VaeTime = result.VaeTime,
            InnTime = result.InnTime,
            CoarsePsnr = result.CoarsePsnr,
            MeasurementPsnr = result.MeasurementPsnr,
            Scores = scores,
        };
    }

    /// <summary>How far a restoration is (0–1) from a progress event: sampling steps and tiles (or the INN-only back-projection's passes and windows), 1 when completed.</summary>
    public static double Fraction(RestoreProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Stage == RestoreStage.Completed)
        {
            return 1;
        }
        if (value.Stage is RestoreStage.Sampling or RestoreStage.BackProjecting && value.TotalSteps > 0)
        {
            double tiles = Math.Max(1, value.TotalTiles);
            double done = ((value.Step - 1) * tiles + value.Tile + 1) / (value.TotalSteps * tiles);
            return Math.Clamp(0.05 + 0.9 * done, 0, 0.95);
        }
        return 0;
    }
}
