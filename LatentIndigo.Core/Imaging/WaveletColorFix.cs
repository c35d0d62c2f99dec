using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Imaging;

/// <summary>
/// The wavelet colour fix used by StableSR, DiffBIR and INDIGO+: keep the high frequencies of a generated image and take
/// the low frequencies (colour, overall tone) from a reference such as the initial estimate.
/// </summary>
/// <remarks>
/// A five-level à trous decomposition: at level i the image is blurred with the 3×3 binomial kernel
/// [[1,2,1],[2,4,2],[1,2,1]]/16 dilated by 2^i (replicate padding); the difference is added to the high band and the
/// blurred image goes to the next level. The result is <c>high(content) + low(reference)</c>.
/// </remarks>
internal static class WaveletColorFix
{
    /// <summary>Number of decomposition levels (dilations 1, 2, 4, 8, 16).</summary>
    public const int Levels = 5;

    /// <summary>
    /// Returns <c>high(content) + low(reference)</c>. Both are <c>[N,C,H,W]</c> of the same shape; the result is not clamped.
    /// </summary>
    public static Tensor Apply(Tensor content, Tensor reference)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(reference);
        if (!content.shape.SequenceEqual(reference.shape) || content.dim() != 4)
        {
            throw new ArgumentException(
                $"Content and reference must both be [N,C,H,W] with the same shape; got [{string.Join(",", content.shape)}] and [{string.Join(",", reference.shape)}].");
        }
        // Only the bands that are used are kept: working memory is a handful of image-sized buffers (this runs on the
        // full output, 2048×2048 and beyond, after the tiled diffusion).
        var (high, contentLow) = Decompose(content, keepHigh: true);
        contentLow.Dispose();
        using var low = Decompose(reference, keepHigh: false).Low;
        return high!.add_(low);
    }

    /// <summary>Splits an <c>[N,C,H,W]</c> image into its high and low bands (high + low = image).</summary>
    public static (Tensor High, Tensor Low) Decompose(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (high, low) = Decompose(image, keepHigh: true);
        return (high!, low);
    }

    private static (Tensor? High, Tensor Low) Decompose(Tensor image, bool keepHigh)
    {
        var high = keepHigh ? torch.zeros_like(image) : null;
        var current = image;
        for (int level = 0; level < Levels; level++)
        {
            var low = BinomialBlur(current, 1L << level);
            if (high is not null)
            {
                using var difference = current - low;
                high.add_(difference);
            }
            if (!ReferenceEquals(current, image))
            {
                current.Dispose();
            }
            current = low;
        }
        return (high, current);
    }

    /// <summary>
    /// The 3×3 binomial blur dilated by <paramref name="dilation"/> with replicate borders, done separably with
    /// shifted views: a dilated depthwise conv2d unfolds a 9×-image im2col buffer on CPU, which dominated the
    /// finishing memory at 2048×2048.
    /// </summary>
    private static Tensor BinomialBlur(Tensor image, long dilation)
    {
        using var scope = torch.NewDisposeScope();
        long height = image.shape[2], width = image.shape[3];
        Tensor rows;
        using (torch.NewDisposeScope())
        {
            // The inner scope frees the padded copy (and its views) before the second pass allocates.
            var padded = torch.nn.functional.pad(image, new[] { dilation, dilation, dilation, dilation }, PaddingModes.Replicate);
            rows = padded.narrow(3, 0, width) + padded.narrow(3, 2 * dilation, width);
            rows.add_(padded.narrow(3, dilation, width), alpha: 2).div_(4);
            rows.MoveToOuterDisposeScope();
        }
        var blurred = rows.narrow(2, 0, height) + rows.narrow(2, 2 * dilation, height);
        blurred.add_(rows.narrow(2, dilation, height), alpha: 2).div_(4);
        return blurred.MoveToOuterDisposeScope();
    }
}
