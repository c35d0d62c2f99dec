namespace LatentIndigo.Cli;

/// <summary>
/// A sans-serif TrueType file for the text the CLI draws into images (the eval chart and the grids' panel labels). The
/// SkiaSharp build the CLI ships (SkiaSharp.NativeAssets.Linux.NoDependencies) has no fontconfig, so it sees no system
/// fonts and text drawn with its default typeface would be blank: the file is looked up in the usual font folders instead.
/// </summary>
internal static class CliFonts
{
    private static readonly Lazy<string?> Cached = new(Find);

    /// <summary>The font file, or null when none of the known ones is installed (text is then left out).</summary>
    public static string? SansSerifFile() => Cached.Value;

    private static string? Find()
    {
        string[] folders = OperatingSystem.IsWindows()
            ? [Environment.GetFolderPath(Environment.SpecialFolder.Fonts)]
            : OperatingSystem.IsMacOS()
                ? ["/System/Library/Fonts", "/Library/Fonts"]
                : ["/usr/share/fonts", "/usr/local/share/fonts"];
        string[] names = ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf", "arial.ttf", "Arial.ttf", "segoeui.ttf"];
        foreach (var folder in folders.Where(Directory.Exists))
        {
            try
            {
                var file = Directory.EnumerateFiles(folder, "*.ttf", SearchOption.AllDirectories)
                    .Where(f => names.Contains(Path.GetFileName(f), StringComparer.Ordinal))
                    .OrderBy(f => Array.IndexOf(names, Path.GetFileName(f)))
                    .ThenBy(f => f, StringComparer.Ordinal)
                    .FirstOrDefault();
                if (file is not null)
                {
                    return file;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // An unreadable font folder: try the next.
            }
        }
        return null;
    }
}
