namespace LatentIndigo.Cli;

/// <summary>Path conveniences shared by the commands.</summary>
public static class CliPaths
{
    /// <summary>
    /// Creates the folder an output file goes into, so `-o out/x.png` works on a fresh clone, and checks that a file can be
    /// written there. A folder that cannot be created or written to is a <see cref="CliUserException"/> naming it.
    /// </summary>
    public static void EnsureParentFolder(string outputFile)
    {
        string? parent = Path.GetDirectoryName(Path.GetFullPath(outputFile));
        if (!string.IsNullOrEmpty(parent))
        {
            EnsureWritableFolder(parent, outputFile);
        }
    }

    /// <summary>Creates <paramref name="folder"/> if needed and proves it writable with a hidden probe file (then removed).</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="forOutput">The output path that needs it, for the message.</param>
    public static void EnsureWritableFolder(string folder, string forOutput)
    {
        for (string? ancestor = Path.GetFullPath(folder); !string.IsNullOrEmpty(ancestor); ancestor = Path.GetDirectoryName(ancestor))
        {
            if (File.Exists(ancestor))
            {
                throw new CliUserException($"Cannot write '{forOutput}': '{ancestor}' is a file, not a folder. Choose another output path.");
            }
            if (Directory.Exists(ancestor))
            {
                break;
            }
        }
        string probe = Path.Combine(folder, $".latent-indigo-probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(folder);
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new CliUserException(
                $"Cannot write '{forOutput}': the folder '{folder}' cannot be created or written to ({ex.Message}). Choose a folder you can write to.");
        }
    }

    /// <summary>True when two paths name the same file (after resolving symbolic links).</summary>
    public static bool SameFile(string a, string b)
    {
        static string Resolve(string p)
        {
            string full = Path.GetFullPath(p);
            try
            {
                return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
            }
            catch (IOException)
            {
                return full;
            }
        }
        return string.Equals(Resolve(a), Resolve(b), OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The image files (png, jpg, jpeg, webp, bmp) directly in a folder, sorted by name.</summary>
    public static IReadOnlyList<string> ImagesIn(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new CliUserException($"The folder '{folder}' does not exist.");
        }
        var extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".webp", ".bmp" };
        return Directory.EnumerateFiles(folder).Where(f => extensions.Contains(Path.GetExtension(f))).OrderBy(f => f, StringComparer.Ordinal).ToList();
    }
}
