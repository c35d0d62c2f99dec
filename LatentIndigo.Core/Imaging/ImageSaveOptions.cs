namespace LatentIndigo.Imaging;

/// <summary>Options for <see cref="ImageIO.Save"/>.</summary>
public sealed record ImageSaveOptions
{
    /// <summary>The default options (quality 95; <see cref="ImageIO.Save"/> may replace any file but the source).</summary>
    public static ImageSaveOptions Default { get; } = new();

    /// <summary>JPEG/WebP quality, 0–100. Ignored for PNG. Default 95.</summary>
    public int Quality { get; init; } = 95;

    /// <summary>
    /// The file the image was read from, if any. Saving onto it is refused (<see cref="ImageOverwriteException"/>)
    /// unless <see cref="AllowOverwriteSource"/> is set.
    /// </summary>
    public string? SourcePath { get; init; }

    /// <summary>Allow saving over <see cref="SourcePath"/>. Default false.</summary>
    public bool AllowOverwriteSource { get; init; }

    /// <summary>
    /// Whether an existing file other than the source may be replaced: true allows it, false refuses it. Null (the
    /// default) leaves it to the caller: <see cref="ImageIO.Save"/> replaces the file, while
    /// <see cref="Pipeline.RestorationPipeline.RestoreFile"/> refuses it before any work unless this is true.
    /// </summary>
    public bool? Overwrite { get; init; }

    /// <summary>Explicit format; null picks it from the file extension.</summary>
    public ImageFileFormat? Format { get; init; }

    /// <summary>Checks every setting and lists all problems in one exception.</summary>
    /// <exception cref="LatentIndigoException">A setting is out of range; the message names each one.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (Quality is < 1 or > 100) problems.Add($"Quality = {Quality} (must be 1..100)");
        if (Format is { } format && !Enum.IsDefined(format)) problems.Add($"Format = {format} (not a known image format)");
        if (problems.Count > 0)
        {
            throw new LatentIndigoException("Invalid ImageSaveOptions: " + string.Join("; ", problems) + ".");
        }
    }
}
