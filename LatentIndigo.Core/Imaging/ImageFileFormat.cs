namespace LatentIndigo.Imaging;

/// <summary>Image file formats. All four load; PNG, JPEG and WebP also save.</summary>
public enum ImageFileFormat
{
    /// <summary>PNG (lossless).</summary>
    Png,
    /// <summary>JPEG (lossy, quality 0–100).</summary>
    Jpeg,
    /// <summary>WebP (quality 0–100; 100 is lossy-high, not lossless).</summary>
    Webp,
    /// <summary>BMP (load only).</summary>
    Bmp,
}
