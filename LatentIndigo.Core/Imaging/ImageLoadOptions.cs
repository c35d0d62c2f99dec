namespace LatentIndigo.Imaging;

/// <summary>Options for <see cref="ImageIO"/> loading.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>The default options (64 MP limit, EXIF orientation applied).</summary>
    public static ImageLoadOptions Default { get; } = new();

    /// <summary>Largest accepted width × height; larger images throw <see cref="ImageTooLargeException"/>. Default 64 MP.</summary>
    public long MaxPixels { get; init; } = 64_000_000;

    /// <summary>Rotate/flip the pixels as the EXIF orientation says, so the tensor is upright. Default true.</summary>
    public bool ApplyExifOrientation { get; init; } = true;
}
