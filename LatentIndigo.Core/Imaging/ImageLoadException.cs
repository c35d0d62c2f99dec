namespace LatentIndigo.Imaging;

/// <summary>
/// An image could not be loaded. The concrete type says why (<see cref="ImageNotFoundException"/>,
/// <see cref="EmptyImageException"/>, <see cref="CorruptImageException"/>, <see cref="UnsupportedImageFormatException"/>,
/// <see cref="ZeroSizeImageException"/>, <see cref="ImageTooLargeException"/>, <see cref="NotAnImageFileException"/>,
/// <see cref="ImageFileTooLargeException"/>); the message names the file and the reason.
/// </summary>
public abstract class ImageLoadException : LatentIndigoException
{
    /// <summary>Creates the exception.</summary>
    protected ImageLoadException(string source, string reason, Exception? inner = null)
        : base($"Cannot load image '{source}': {reason}", inner)
    {
        Source = source;
        Reason = reason;
    }

    /// <summary>The file path, or a description of the stream or buffer, that failed to load.</summary>
    public new string Source { get; }

    /// <summary>Why it failed, in words.</summary>
    public string Reason { get; }
}

/// <summary>The image file does not exist.</summary>
public sealed class ImageNotFoundException(string source)
    : ImageLoadException(source, source.Contains('\uFFFD', StringComparison.Ordinal)
        // .NET reads a file name whose bytes are not UTF-8 with U+FFFD in their place, and cannot open it by that name.
        ? "its name holds bytes that are not UTF-8 (shown as \uFFFD), so it cannot be opened by name. Rename the file to a UTF-8 name."
        : "the file does not exist. Check the path.");

/// <summary>The file or buffer holds zero bytes (for a path: or it is a pipe or socket, which report no size either).</summary>
public sealed class EmptyImageException(string source, bool fileOnDisk = false)
    : ImageLoadException(source, fileOnDisk
        ? "the file is empty (0 bytes), or it is a pipe or socket (they report 0 bytes and are not read). Pass an image file."
        : "the data is empty (0 bytes).");

/// <summary>
/// The path is not a regular file with a size: a device (such as <c>/dev/zero</c>), a named pipe, a socket or a folder.
/// Such paths are refused before they are opened, since reading them may never end.
/// </summary>
public sealed class NotAnImageFileException(string source, string what)
    : ImageLoadException(source, $"it is {what}, not an image file. Pass the path of a PNG, JPEG, WebP or BMP file.");

/// <summary>The file is larger than <see cref="ImageLoadOptions.MaxFileBytes"/>; nothing was read.</summary>
public sealed class ImageFileTooLargeException(string source, long bytes, long maxBytes)
    : ImageLoadException(source,
        $"the file is {bytes:N0} bytes, over the limit of {maxBytes:N0}. Re-encode or downscale it first, or raise ImageLoadOptions.MaxFileBytes.");

/// <summary>
/// The file exists (or its name does) but the OS refused to read it: permission denied, a symbolic link loop, a
/// failing disk. The message names the OS's cause and the next step.
/// </summary>
public sealed class ImageUnreadableException(string source, Exception inner)
    : ImageLoadException(source, "the file cannot be read: " + IoFailure.Explain(inner, reading: true), inner);

/// <summary>The data starts like a supported format but is truncated or damaged.</summary>
public sealed class CorruptImageException(string source, string detail, Exception? inner = null)
    : ImageLoadException(source, $"the data is truncated or corrupt ({detail}). Re-export or re-download the image.", inner);

/// <summary>The data is not PNG, JPEG, WebP or BMP.</summary>
public sealed class UnsupportedImageFormatException(string source, string detail)
    : ImageLoadException(source, $"{detail}. Supported formats: PNG, JPEG, WebP, BMP (loading); PNG, JPEG, WebP (saving).");

/// <summary>The image declares a width or height of zero.</summary>
public sealed class ZeroSizeImageException(string source, int width, int height)
    : ImageLoadException(source, $"the image has zero size ({width}×{height}).");

/// <summary>The image has more pixels than <see cref="ImageLoadOptions.MaxPixels"/> allows.</summary>
public sealed class ImageTooLargeException(string source, int width, int height, long maxPixels)
    : ImageLoadException(source,
        $"the image is {width}×{height} = {(long)width * height:N0} pixels, over the limit of {maxPixels:N0}. " +
        "Downscale it first or raise ImageLoadOptions.MaxPixels.");
