using LatentIndigo.Degradations;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Evaluation;

/// <summary>Makes the low-quality input of a ground-truth image and scores restorations against it.</summary>
public static class ImageEvaluator
{
    /// <summary>
    /// Crops <paramref name="highQuality"/> to a multiple of the scale factor (from the bottom and right, the usual
    /// "mod crop") so that the low-quality size times the factor is exactly the ground-truth size.
    /// </summary>
    public static Tensor ModCrop(Tensor highQuality, int scaleFactor)
    {
        ArgumentNullException.ThrowIfNull(highQuality);
        ArgumentOutOfRangeException.ThrowIfLessThan(scaleFactor, 1);
        long height = highQuality.shape[^2] / scaleFactor * scaleFactor, width = highQuality.shape[^1] / scaleFactor * scaleFactor;
        if (height == 0 || width == 0)
        {
            throw new ArgumentException($"The image is smaller than the scale factor ×{scaleFactor}.", nameof(highQuality));
        }
        return highQuality.narrow(-2, 0, height).narrow(-1, 0, width).contiguous();
    }

    /// <summary>
    /// The low-quality input of a (mod-cropped) ground-truth image under <paramref name="degradation"/>, drawn with
    /// <paramref name="seed"/> (the same seed gives the same input), quantised to 8 bits like a saved file.
    /// </summary>
    public static Tensor Degrade(Tensor highQuality, IDegradationModel degradation, long seed)
    {
        ArgumentNullException.ThrowIfNull(highQuality);
        ArgumentNullException.ThrowIfNull(degradation);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var lq = degradation.Apply(highQuality, generator);
        return ImageQuality.QuantizeTo8Bit(lq).MoveToOuterDisposeScope();
    }

    /// <summary>Scores a restoration (quantised to 8 bits first, as it is saved) against its ground truth.</summary>
    /// <param name="output">The restored image, <c>[1,3,H,W]</c> in [0,1], the size of <paramref name="highQuality"/>.</param>
    /// <param name="highQuality">The (mod-cropped) ground truth.</param>
    /// <param name="lowQuality">The low-quality input the restoration started from.</param>
    /// <param name="scaleFactor">The scale factor: also the border cropped before PSNR and SSIM.</param>
    /// <param name="degradation">The degradation that made <paramref name="lowQuality"/>, for the LR consistency, or null.</param>
    /// <param name="seed">The seed <paramref name="lowQuality"/> was drawn with.</param>
    /// <param name="perceptual">The caller's perceptual metric, or null.</param>
    public static EvaluationScores Score(Tensor output, Tensor highQuality, Tensor lowQuality, int scaleFactor,
        IDegradationModel? degradation = null, long seed = 0, IPerceptualMetric? perceptual = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(highQuality);
        ArgumentNullException.ThrowIfNull(lowQuality);
        using var scope = torch.NewDisposeScope();
        var quantised = ImageQuality.QuantizeTo8Bit(output);
        var reference = highQuality.detach().to(DeviceType.CPU).to(ScalarType.Float32);
        double? lr = null;
        if (degradation is not null)
        {
            lr = ImageQuality.PsnrRgb(Degrade(quantised, degradation, seed), lowQuality.to(DeviceType.CPU));
        }
        return new EvaluationScores(
            ImageQuality.PsnrY(quantised, reference, scaleFactor),
            ImageQuality.SsimY(quantised, reference, scaleFactor),
            lr,
            perceptual?.Compute(quantised, reference));
    }
}
