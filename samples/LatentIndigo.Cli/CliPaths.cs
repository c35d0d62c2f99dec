namespace LatentIndigo.Cli;

/// <summary>Path conveniences shared by the commands.</summary>
public static class CliPaths
{
    /// <summary>Creates the folder an output file goes into, so `-o out/x.png` works on a fresh clone.</summary>
    public static void EnsureParentFolder(string outputFile)
    {
        string? parent = Path.GetDirectoryName(Path.GetFullPath(outputFile));
        if (!string.IsNullOrEmpty(parent))
        {
            Directory.CreateDirectory(parent);
        }
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
