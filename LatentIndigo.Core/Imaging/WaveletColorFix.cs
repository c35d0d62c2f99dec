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
public static class WaveletColorFix
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
        using var scope = torch.NewDisposeScope();
        var (high, _) = Decompose(content);
        var (_, low) = Decompose(reference);
        return (high + low).MoveToOuterDisposeScope();
    }

    /// <summary>Splits an <c>[N,C,H,W]</c> image into its high and low bands (high + low = image).</summary>
    public static (Tensor High, Tensor Low) Decompose(Tensor image)
    {
        using var scope = torch.NewDisposeScope();
        int channels = (int)image.shape[1];
        var kernel = torch.tensor(new float[] { 1, 2, 1, 2, 4, 2, 1, 2, 1 }, dtype: image.dtype, device: image.device)
            .div_(16f).reshape(1, 1, 3, 3).expand(channels, 1, 3, 3);
        var high = torch.zeros_like(image);
        var current = image;
        for (int level = 0; level < Levels; level++)
        {
            long radius = 1L << level;
            var padded = torch.nn.functional.pad(current, new[] { radius, radius, radius, radius }, PaddingModes.Replicate);
            var low = torch.nn.functional.conv2d(padded, kernel, dilation: new[] { radius, radius }, groups: channels);
            high = high + (current - low);
            current = low;
        }
        return (high.MoveToOuterDisposeScope(), current.MoveToOuterDisposeScope());
    }
}
