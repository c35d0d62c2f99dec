namespace LatentIndigo.Imaging;

/// <summary>
/// Reads an image file's bytes with the file-level limits of <see cref="ImageLoadOptions"/>: missing paths, folders,
/// non-regular files and oversized files are refused before anything is read, and the read itself stops at the limit.
/// </summary>
internal static class ImageFileReader
{
    public static byte[] ReadAllBytes(string path, ImageLoadOptions options)
    {
        var info = new FileInfo(path);
        if (Directory.Exists(path))
        {
            throw new NotAnImageFileException(path, "a folder");
        }
        if (!info.Exists)
        {
            // A dangling name may still be there: a link loop, or a folder on the path that may not be searched.
            throw WhyUnopenable(path) ?? (Exception)new ImageNotFoundException(path);
        }
        // Devices, pipes and sockets report no size (st_size 0); opening a pipe blocks until a writer comes and reading
        // /dev/zero never ends. A regular file of 0 bytes is simply empty. Neither holds an image, so nothing is opened.
        if (info.Length == 0)
        {
            if (IsUnderDeviceFolder(info.FullName))
            {
                throw new NotAnImageFileException(path, "a device");
            }
            throw new EmptyImageException(path, fileOnDisk: true);
        }
        if (info.Length > options.MaxFileBytes)
        {
            throw new ImageFileTooLargeException(path, info.Length, options.MaxFileBytes);
        }
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            return ReadBounded(stream, path, options.MaxFileBytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw IoFailure.Classify(ex) == IoCause.NotFound ? new ImageNotFoundException(path) : new ImageUnreadableException(path, ex);
        }
    }

    /// <summary>Why a path that does not show as a file cannot be opened, or null when it simply does not exist.</summary>
    private static ImageUnreadableException? WhyUnopenable(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return IoFailure.Classify(ex) == IoCause.NotFound ? null : new ImageUnreadableException(path, ex);
        }
    }

    /// <summary>Reads a stream to its end, refusing more than <paramref name="maxBytes"/> (the stream may grow meanwhile).</summary>
    public static byte[] ReadBounded(Stream stream, string source, long maxBytes)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new ImageFileTooLargeException(source, buffer.Length + read, maxBytes);
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static bool IsUnderDeviceFolder(string fullPath) =>
        !OperatingSystem.IsWindows() && (fullPath.StartsWith("/dev/", StringComparison.Ordinal) || fullPath.StartsWith("/proc/", StringComparison.Ordinal));
}
