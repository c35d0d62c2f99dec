namespace LatentIndigo;

/// <summary>
/// The library's one way to write a file so that readers (and a resumed batch) see either the old file or the complete
/// new one, never a partial write: the content goes to a temporary file beside the target, is flushed to disk, then
/// renamed over the target (a rename within one folder is atomic). The temporary name is
/// <c>.{name}.{guid}.tmp</c>, the pattern <c>RestoreBatch</c> deletes when it repairs an interrupted job. On failure
/// the temporary file is removed and the exception propagates unchanged; callers translate it.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var full = Path.GetFullPath(path);
        var temp = TempPathFor(full);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    /// <summary>Lets <paramref name="write"/> fill a new stream, then puts the result at <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write) =>
        WriteThroughFile(path, temp =>
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
            write(stream);
            stream.Flush(flushToDisk: true);
        });

    /// <summary>
    /// For writers that only take a path (e.g. TorchSharp's <c>save_state_dict</c>): <paramref name="writeTo"/> writes
    /// the temporary path, which is then renamed to <paramref name="path"/>.
    /// </summary>
    public static void WriteThroughFile(string path, Action<string> writeTo)
    {
        var full = Path.GetFullPath(path);
        var temp = TempPathFor(full);
        try
        {
            writeTo(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    private static string TempPathFor(string fullPath) =>
        Path.Combine(Path.GetDirectoryName(fullPath) ?? ".", $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");

    // After a successful rename the temporary file no longer exists; after a failure its removal must not hide the
    // original error.
    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
