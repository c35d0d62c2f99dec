namespace LatentIndigo.Imaging;

/// <summary>An image could not be saved; nothing was written at the destination.</summary>
public class ImageSaveException : LatentIndigoException
{
    /// <summary>Creates the exception for a destination path.</summary>
    public ImageSaveException(string path, string reason, Exception? inner = null)
        : base($"Cannot save image to '{path}': {reason}", inner)
    {
        Path = path;
    }

    /// <summary>The destination path.</summary>
    public string Path { get; }
}

/// <summary>Saving would overwrite the image it was read from, which is refused unless explicitly allowed.</summary>
public sealed class ImageOverwriteException(string path)
    : ImageSaveException(path, "it is the input image. Choose another output path, or set ImageSaveOptions.AllowOverwriteSource.");
