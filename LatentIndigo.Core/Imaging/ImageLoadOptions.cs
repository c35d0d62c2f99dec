namespace LatentIndigo.Imaging;

/// <summary>Options for <see cref="ImageIO"/> loading.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>The default options (64 MP and 256 MiB limits, EXIF orientation applied).</summary>
    public static ImageLoadOptions Default { get; } = new();

    /// <summary>Largest accepted width × height; larger images throw <see cref="ImageTooLargeException"/>. Default 64 MP.</summary>
    public long MaxPixels { get; init; } = 64_000_000;

    /// <summary>
    /// Largest accepted file, in bytes; larger files throw <see cref="ImageFileTooLargeException"/> before they are read.
    /// Default 256 MiB (far above any photo: a 64 MP PNG of noise is about 200 MB).
    /// </summary>
    public long MaxFileBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Rotate/flip the pixels as the EXIF orientation says, so the tensor is upright. Default true.</summary>
    public bool ApplyExifOrientation { get; init; } = true;

    /// <summary>Checks every setting and lists all problems in one exception.</summary>
    /// <exception cref="LatentIndigoException">A setting is out of range; the message names each one.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (MaxPixels < 1) problems.Add($"MaxPixels = {MaxPixels} (must be ≥ 1)");
        if (MaxFileBytes < 1) problems.Add($"MaxFileBytes = {MaxFileBytes} (must be ≥ 1)");
        if (problems.Count > 0)
        {
            throw new LatentIndigoException("Invalid ImageLoadOptions: " + string.Join("; ", problems) + ".");
        }
    }
}
