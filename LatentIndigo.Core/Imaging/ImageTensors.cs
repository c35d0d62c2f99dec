using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Imaging;

/// <summary>Small helpers for image tensors: value ranges, padding to a multiple, cropping back.</summary>
internal static class ImageTensors
{
    /// <summary>Maps [0,1] to [-1,1] (2x − 1), the range Stable Diffusion's VAE expects.</summary>
    public static Tensor ToSigned(Tensor unit) => unit.mul(2f).sub_(1f);

    /// <summary>Maps [-1,1] to [0,1] ((x + 1) / 2).</summary>
    public static Tensor ToUnit(Tensor signed) => signed.add(1f).div_(2f);

    /// <summary>
    /// Pads an <c>[N,C,H,W]</c> (or <c>[C,H,W]</c>) tensor at the bottom and right with mirror reflection (edge pixel not
    /// repeated) so that H and W become multiples of <paramref name="multiple"/>. Works for any pad amount, also when it
    /// exceeds the image size (the reflection repeats). Crop back with <see cref="Crop(PaddedImage, Tensor?, int)"/>.
    /// </summary>
    public static PaddedImage PadToMultiple(Tensor image, int multiple)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (multiple < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(multiple), multiple, "The multiple must be at least 1.");
        }
        if (image.dim() is not (3 or 4))
        {
            throw new ArgumentException($"Expected an image tensor [C,H,W] or [N,C,H,W], got shape [{string.Join(",", image.shape)}].", nameof(image));
        }
        int hDim = (int)image.dim() - 2, wDim = (int)image.dim() - 1;
        int height = (int)image.shape[hDim], width = (int)image.shape[wDim];
        int padBottom = (multiple - height % multiple) % multiple;
        int padRight = (multiple - width % multiple) % multiple;
        using var scope = torch.NewDisposeScope();
        var padded = image.index_select(hDim, ReflectIndices(height, padBottom, image.device))
                          .index_select(wDim, ReflectIndices(width, padRight, image.device));
        return new PaddedImage(padded.MoveToOuterDisposeScope(), padBottom, padRight, height, width);
    }

    /// <summary>
    /// Crops a (possibly processed and rescaled) padded image back to the original size times <paramref name="scale"/>.
    /// Pass <paramref name="processed"/> when the padded tensor was transformed; otherwise the padded image is cropped.
    /// </summary>
    public static Tensor Crop(PaddedImage padded, Tensor? processed = null, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(padded);
        var source = processed ?? padded.Image;
        int hDim = (int)source.dim() - 2, wDim = (int)source.dim() - 1;
        long height = (long)padded.OriginalHeight * scale, width = (long)padded.OriginalWidth * scale;
        if (source.shape[hDim] < height || source.shape[wDim] < width)
        {
            throw new ArgumentException($"The tensor ({source.shape[hDim]}×{source.shape[wDim]}) is smaller than the crop ({height}×{width}).", nameof(processed));
        }
        return source.narrow(hDim, 0, height).narrow(wDim, 0, width).contiguous();
    }

    /// <summary>Validates a single image <c>[1,3,H,W]</c> or <c>[3,H,W]</c> and returns it as <c>[3,H,W]</c>.</summary>
    internal static Tensor AsSingleImage(Tensor image, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(image, parameterName);
        var shape = image.shape;
        bool ok = (shape.Length == 4 && shape[0] == 1 && shape[1] == 3) || (shape.Length == 3 && shape[0] == 3);
        if (!ok || shape[^1] == 0 || shape[^2] == 0)
        {
            throw new ArgumentException(
                $"Expected one RGB image as [1,3,H,W] or [3,H,W] with H,W > 0; got shape [{string.Join(",", shape)}].", parameterName);
        }
        return shape.Length == 4 ? image[0] : image;
    }

    private static Tensor ReflectIndices(int length, int pad, Device device)
    {
        var indices = new long[length + pad];
        int period = Math.Max(2 * length - 2, 1);
        for (int i = 0; i < indices.Length; i++)
        {
            int m = i % period;
            indices[i] = length == 1 ? 0 : (m < length ? m : period - m);
        }
        return torch.tensor(indices, device: device);
    }
}
