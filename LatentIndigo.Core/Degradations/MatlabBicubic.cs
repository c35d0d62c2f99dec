using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>
/// MATLAB-compatible bicubic <c>imresize</c> with antialiasing: the convention used to build super-resolution
/// benchmarks (Set5, DIV2K "bicubic" LR images). Keys cubic kernel with a = −0.5, stretched by 1/scale when
/// downscaling, MATLAB's pixel-centre index arithmetic and symmetric edge handling, applied as two separable passes.
/// Works on CPU and CUDA tensors.
/// </summary>
public static class MatlabBicubic
{
    /// <summary>
    /// Resizes by <paramref name="scale"/> (output/input, e.g. 0.25 for ×4 downscaling, 2 for ×2 upscaling). The output
    /// size is ceil(scale·size) as in MATLAB.
    /// </summary>
    /// <param name="image">
    /// <c>[C,H,W]</c> or <c>[N,C,H,W]</c> float32, normally in [0,1]; it is not modified.
    /// </param>
    /// <param name="scale">Positive, finite scale factor.</param>
    /// <returns>A new float32 tensor with the input's rank and device; values are not clamped or rounded.</returns>
    public static Tensor Resize(Tensor image, double scale)
    {
        if (!double.IsFinite(scale) || scale <= 0)
        {
            throw new DegradationException($"MatlabBicubic.Resize: the scale must be a positive finite number; got {scale}.");
        }
        var (h, w) = CheckImage(image);
        var outH = MatlabResize.OutputLength(h, scale);
        var outW = MatlabResize.OutputLength(w, scale);
        CheckOutput(outH, outW, h, w);
        return Run(image, outH, outW, scale, scale);
    }

    /// <summary>
    /// The library's bicubic upscale estimate of a degraded image: <see cref="Resize(Tensor, double)"/> by an integer
    /// <paramref name="factor"/>, clamped to [0,1] (the overshoot at edges is not image content), computed in float32
    /// and returned in the input's dtype; factor 1 returns a copy. The pipeline's default initial estimate and the
    /// INN-only restore both start from it.
    /// </summary>
    internal static Tensor UpscaleEstimate(Tensor image, int factor)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (factor < 1)
        {
            throw new DegradationException($"MatlabBicubic.UpscaleEstimate: the factor must be at least 1; got {factor}.");
        }
        if (factor == 1)
        {
            return image.clone();
        }
        using var scope = torch.NewDisposeScope();
        return Resize(image.to(ScalarType.Float32), factor).clamp_(0f, 1f).to(image.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Resizes to an exact output size; as in MATLAB, each dimension uses the scale output/input.
    /// </summary>
    /// <param name="image"><c>[C,H,W]</c> or <c>[N,C,H,W]</c> float32.</param>
    /// <param name="outputHeight">Output height in pixels (at least 1).</param>
    /// <param name="outputWidth">Output width in pixels (at least 1).</param>
    public static Tensor Resize(Tensor image, int outputHeight, int outputWidth)
    {
        var (h, w) = CheckImage(image);
        CheckOutput(outputHeight, outputWidth, h, w);
        return Run(image, outputHeight, outputWidth, (double)outputHeight / h, (double)outputWidth / w);
    }

    private static Tensor Run(Tensor image, int outH, int outW, double scaleH, double scaleW)
    {
        using var scope = torch.NewDisposeScope();
        var batch = image.dim() == 3 ? image.unsqueeze(0) : image;
        var result = MatlabResize.Resize(batch, outH, outW, scaleH, scaleW, MatlabKernel.Cubic, antialias: true);
        if (image.dim() == 3)
        {
            result = result.squeeze(0);
        }
        return result.MoveToOuterDisposeScope();
    }

    private static (long H, long W) CheckImage(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() is not (3 or 4))
        {
            throw new DegradationException(
                $"MatlabBicubic.Resize expects [C,H,W] or [N,C,H,W]; got shape [{string.Join(",", image.shape)}].");
        }
        if (image.dtype != ScalarType.Float32)
        {
            throw new DegradationException($"MatlabBicubic.Resize expects float32; got {image.dtype}. Convert with .to(torch.float32).");
        }
        long h = image.shape[^2], w = image.shape[^1];
        if (h < 1 || w < 1 || image.numel() == 0)
        {
            throw new DegradationException($"MatlabBicubic.Resize: the image is empty (shape [{string.Join(",", image.shape)}]).");
        }
        BatchChecks.RequireFinite(image, "MatlabBicubic.Resize");
        return (h, w);
    }

    private static void CheckOutput(long outH, long outW, long h, long w)
    {
        const long MaxSide = 1 << 16;
        if (outH < 1 || outW < 1 || outH > MaxSide || outW > MaxSide)
        {
            throw new DegradationException(
                $"MatlabBicubic.Resize: {w}x{h} would become {outW}x{outH}; each output side must be between 1 and {MaxSide} pixels.");
        }
    }
}
