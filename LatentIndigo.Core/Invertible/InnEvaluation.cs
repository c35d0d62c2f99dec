using LatentIndigo.Degradations;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Invertible;

/// <summary>How well an INN's coarse band imitates a degradation, measured as PSNR against the true degraded image.</summary>
public static class InnEvaluation
{
    /// <summary>
    /// Coarse-vs-true-LQ PSNR (dB, peak 1) per image: each image is cropped at the bottom/right to a multiple of 2^J,
    /// degraded with a generator seeded by its index (random degradations repeat exactly), and compared with the coarse band.
    /// </summary>
    /// <param name="inn">The network (float32).</param>
    /// <param name="degradation">The degradation it should imitate.</param>
    /// <param name="images">High-quality images.</param>
    /// <param name="conditionFromLowQuality">Optional γ from the degraded image; null = the network's <see cref="LiftingInn.Encoder"/> (or ones without one).</param>
    /// <param name="cancellationToken">Checked between images.</param>
    /// <param name="representation">
    /// Optional map applied to both the image and its degraded version before the comparison (e.g. a VAE encoder for a
    /// latent INN); the PSNR is then measured in that space, still with peak 1.
    /// </param>
    /// <param name="representationDownscale">Image pixels per representation pixel (8 for SD's VAE).</param>
    public static IReadOnlyList<(string Name, double Psnr)> CoarsePsnr(LiftingInn inn, IDegradationModel degradation, InnImageSet images,
        Func<Tensor, Tensor>? conditionFromLowQuality = null, Func<Tensor, Tensor>? representation = null,
        int representationDownscale = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inn);
        ArgumentNullException.ThrowIfNull(degradation);
        ArgumentNullException.ThrowIfNull(images);
        var results = new List<(string, double)>();
        bool wasTraining = inn.training;
        inn.eval();
        try
        {
            for (int i = 0; i < images.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var image = images.Images[i];
                int multiple = inn.ScaleFactor * Math.Max(1, representationDownscale);
                long h = image.shape[1] / multiple * multiple, w = image.shape[2] / multiple * multiple;
                if (h == 0 || w == 0)
                {
                    throw new InnInputException($"Validation image '{images.Names[i]}' is smaller than {multiple} pixels.");
                }
                var x = image.narrow(1, 0, h).narrow(2, 0, w).unsqueeze(0).to(inn.Device);
                using var generator = new Generator(10_000UL + (ulong)i, inn.Device);
                var y = degradation.Apply(x, generator);
                var condition = conditionFromLowQuality?.Invoke(y);
                var observedImage = y;
                if (representation is not null)
                {
                    x = representation(x);
                    y = representation(y);
                }
                // Without an explicit condition, the network's own degradation encoder sees y in the network's space (or
                // the image, for an encoder that sees images).
                condition ??= inn.ConditionFor(inn.EncoderSeesImages ? observedImage : y);
                using var decomposition = inn.Forward(x, condition);
                if (!decomposition.Coarse.shape.SequenceEqual(y.shape))
                {
                    throw new InnInputException(
                        $"The degradation '{degradation.Spec}' made [{string.Join(",", y.shape)}] but the INN's coarse band is [{string.Join(",", decomposition.Coarse.shape)}].");
                }
                results.Add((images.Names[i], Psnr(decomposition.Coarse, y)));
            }
        }
        finally
        {
            inn.train(wasTraining);
        }
        return results;
    }

    /// <summary>PSNR in dB for peak value 1: 10·log10(1 / MSE); +∞ for identical tensors.</summary>
    public static double Psnr(Tensor estimate, Tensor reference) => Imaging.Psnr.Of(estimate, reference);
}
