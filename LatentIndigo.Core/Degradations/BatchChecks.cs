using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Degradations;

/// <summary>Input checks shared by the degradations, with messages that say what to do.</summary>
internal static class BatchChecks
{
    public static void Validate(Tensor batch, int scaleFactor, int minimumSide, string spec)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.IsInvalid)
        {
            throw new DegradationException($"'{spec}': the batch tensor was already disposed.");
        }
        if (batch.dim() != 4)
        {
            throw new DegradationException(
                $"'{spec}' expects a batch [N,C,H,W]; got shape [{string.Join(",", batch.shape)}]. Add a batch dimension with unsqueeze(0).");
        }
        if (batch.dtype != ScalarType.Float32)
        {
            throw new DegradationException($"'{spec}' expects float32 values in [0,1]; got {batch.dtype}. Convert with .to(torch.float32).");
        }
        long n = batch.shape[0], c = batch.shape[1], h = batch.shape[2], w = batch.shape[3];
        if (n < 1 || c < 1)
        {
            throw new DegradationException($"'{spec}': the batch is empty (shape [{string.Join(",", batch.shape)}]).");
        }
        if (h < minimumSide || w < minimumSide)
        {
            throw new DegradationException(
                $"'{spec}' needs images of at least {minimumSide}x{minimumSide} pixels; got {w}x{h}. Use larger images or a milder degradation.");
        }
        if (h % scaleFactor != 0 || w % scaleFactor != 0)
        {
            throw new DegradationException(
                $"'{spec}' scales by 1/{scaleFactor}, so height and width must be multiples of {scaleFactor}; got {w}x{h}. Crop the image to {w / scaleFactor * scaleFactor}x{h / scaleFactor * scaleFactor} first.");
        }
        RequireFinite(batch, spec);
    }

    public static void RequireFinite(Tensor tensor, string what)
    {
        using var finite = torch.isfinite(tensor).all();
        if (!finite.item<bool>())
        {
            throw new DegradationException($"'{what}': the input contains NaN or infinite values; clean the image data first.");
        }
    }
}
