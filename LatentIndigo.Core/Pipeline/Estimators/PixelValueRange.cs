namespace LatentIndigo.Pipeline;

/// <summary>The pixel values a super-resolution network reads and writes (RGB).</summary>
public enum PixelValueRange
{
    /// <summary>0 to 1 (most PyTorch exports, e.g. Real-ESRGAN, SwinIR; UpscalerJS's ESRGAN-thick).</summary>
    ZeroToOne,

    /// <summary>0 to 255 (UpscalerJS's ESRGAN-slim and -medium, many Keras RDN models).</summary>
    ZeroTo255,
}
