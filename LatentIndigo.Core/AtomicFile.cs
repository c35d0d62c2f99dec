using System.Text;

namespace LatentIndigo;

/// <summary>
/// The library's one way to write a file so that readers (and a resumed batch or training) see either the old file or
/// the complete new one, never a partial write: the content goes to a temporary file beside the target, is flushed to
/// the disk (<see cref="FileStream.Flush(bool)"/> with <c>flushToDisk: true</c>, i.e. fsync, so that a power loss after
/// the rename cannot leave the new name pointing at unwritten data), then renamed over the target (a rename within one
/// folder is atomic). (The folder entry itself is not flushed: .NET opens no folder for that; after a power loss the
/// rename may be lost, leaving the old file, never a partial new one.)
/// </summary>
/// <remarks>
/// The temporary name is <c>.{name}.{32 hex digits}.tmp</c>, the name cut (at a character boundary) so that the whole
/// temporary name fits in <see cref="MaxNameBytes"/> UTF-8 bytes: a target name of up to 255 bytes can always be
/// written. <see cref="IsTemporaryFor"/> recognises these files; a resumed batch and a resumed training delete the
/// ones a crash left behind. On failure the temporary file is removed and the exception propagates unchanged; callers
/// translate it (<see cref="IoFailure"/>).
/// </remarks>
internal static class AtomicFile
{
    /// <summary>The longest file name (in UTF-8 bytes) Linux, macOS and Windows file systems take (NAME_MAX).</summary>
    public const int MaxNameBytes = 255;

    // "." + name + "." + 32 hex digits + ".tmp"
    private const int TempOverheadBytes = 1 + 1 + 32 + 4;

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
    /// the temporary path, which is flushed to disk and then renamed to <paramref name="path"/>.
    /// </summary>
    public static void WriteThroughFile(string path, Action<string> writeTo)
    {
        var full = Path.GetFullPath(path);
        var temp = TempPathFor(full);
        try
        {
            writeTo(temp);
            using (var written = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite))
            {
                written.Flush(flushToDisk: true); // the writer may not have flushed to the disk
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            DeleteQuietly(temp);
        }
    }

    /// <summary>A new temporary path beside <paramref name="fullPath"/> that fits in <see cref="MaxNameBytes"/>.</summary>
    internal static string TempPathFor(string fullPath) =>
        Path.Combine(Path.GetDirectoryName(fullPath) ?? ".", $".{TempStem(Path.GetFileName(fullPath))}.{Guid.NewGuid():N}.tmp");

    /// <summary>Whether <paramref name="fileName"/> is a temporary file of a write to <paramref name="targetName"/>.</summary>
    internal static bool IsTemporaryFor(string fileName, string targetName)
    {
        string prefix = "." + TempStem(targetName) + ".";
        return fileName.Length == prefix.Length + 32 + 4 && fileName.StartsWith(prefix, StringComparison.Ordinal)
            && fileName.EndsWith(".tmp", StringComparison.Ordinal)
            && fileName.AsSpan(prefix.Length, 32).IndexOfAnyExcept("0123456789abcdef") < 0;
    }

    /// <summary>Deletes the temporary files that interrupted writes to <paramref name="fullPath"/> left; returns how many.</summary>
    internal static int DeleteLeftovers(string fullPath)
    {
        string folder = Path.GetDirectoryName(fullPath) ?? ".", name = Path.GetFileName(fullPath);
        if (!Directory.Exists(folder))
        {
            return 0;
        }
        int deleted = 0;
        foreach (var file in Directory.EnumerateFiles(folder, ".*.tmp"))
        {
            if (IsTemporaryFor(Path.GetFileName(file), name))
            {
                File.Delete(file); // an interrupted write: never a finished file
                deleted++;
            }
        }
        return deleted;
    }

    /// <summary>The target name, cut at a character boundary so that the temporary name fits in 255 UTF-8 bytes.</summary>
    private static string TempStem(string name)
    {
        int budget = MaxNameBytes - TempOverheadBytes;
        if (Encoding.UTF8.GetByteCount(name) <= budget)
        {
            return name;
        }
        var stem = new StringBuilder();
        int bytes = 0;
        foreach (var rune in name.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > budget)
            {
                break;
            }
            bytes += rune.Utf8SequenceLength;
            stem.Append(rune.ToString());
        }
        return stem.ToString();
    }

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
