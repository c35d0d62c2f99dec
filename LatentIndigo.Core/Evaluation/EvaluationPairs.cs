using LatentIndigo.Imaging;

namespace LatentIndigo.Evaluation;

/// <summary>Finds the images of an evaluation and checks them from their headers before any work.</summary>
public static class EvaluationPairs
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".webp", ".bmp" };

    /// <summary>
    /// The ground-truth images of <paramref name="highQualityFolder"/> (PNG, JPEG, WebP, BMP; sorted by name) and, with
    /// <paramref name="lowQualityFolder"/>, the low-quality image of the same name (any of those extensions) for each.
    /// </summary>
    /// <param name="highQualityFolder">Folder of ground-truth images.</param>
    /// <param name="lowQualityFolder">Folder of low-quality images with the same names, or null.</param>
    /// <param name="scaleFactor">The scale factor: with LQ images, each must be the HR size divided by it (rounded down).</param>
    /// <exception cref="EvaluationInputException">A folder is missing or empty, two images share a name, an LQ image is
    /// missing, unreadable or of the wrong size, or an HR image is smaller than the scale factor.</exception>
    public static IReadOnlyList<EvaluationPair> FromFolders(string highQualityFolder, string? lowQualityFolder, int scaleFactor)
    {
        ArgumentNullException.ThrowIfNull(highQualityFolder);
        ArgumentOutOfRangeException.ThrowIfLessThan(scaleFactor, 1);
        var highQuality = ImagesByName(highQualityFolder, "ground-truth");
        var low = lowQualityFolder is null ? null : ImagesByName(lowQualityFolder, "low-quality");
        var pairs = new List<EvaluationPair>();
        foreach (var (name, hrPath) in highQuality)
        {
            var (_, hrWidth, hrHeight) = Identify(hrPath);
            if (hrWidth < scaleFactor || hrHeight < scaleFactor)
            {
                throw new EvaluationInputException($"The ground-truth image '{hrPath}' ({hrWidth}×{hrHeight}) is smaller than the scale factor ×{scaleFactor}.");
            }
            // SSIM-Y needs its 11×11 window inside the image after the border crop of the scale factor on each side
            // (checked for every image before any work, so a tiny image does not fail the run midway).
            int minimumSide = MinimumSide(scaleFactor);
            if (hrWidth / scaleFactor * scaleFactor < minimumSide || hrHeight / scaleFactor * scaleFactor < minimumSide)
            {
                throw new EvaluationInputException(
                    $"The ground-truth image '{hrPath}' ({hrWidth}×{hrHeight}) is too small to score at ×{scaleFactor}: SSIM-Y needs at least {minimumSide}×{minimumSide} pixels ({ImageQuality.WindowSize}×{ImageQuality.WindowSize} after a border of {scaleFactor} on each side). Leave it out of the folder, or use a larger image.");
            }
            string? lqPath = null;
            if (low is not null)
            {
                if (!low.TryGetValue(name, out lqPath))
                {
                    throw new EvaluationInputException($"The ground-truth image '{hrPath}' has no low-quality pair named '{name}.*' in '{lowQualityFolder}'.");
                }
                var (_, lqWidth, lqHeight) = Identify(lqPath);
                if (lqWidth != hrWidth / scaleFactor || lqHeight != hrHeight / scaleFactor)
                {
                    throw new EvaluationInputException(
                        $"The sizes do not match: '{lqPath}' is {lqWidth}×{lqHeight}, but its ground truth '{hrPath}' ({hrWidth}×{hrHeight}) at ×{scaleFactor} needs {hrWidth / scaleFactor}×{hrHeight / scaleFactor}.");
                }
            }
            pairs.Add(new EvaluationPair(name, hrPath, lqPath));
        }
        if (low is not null)
        {
            var orphan = low.Keys.FirstOrDefault(k => !highQuality.ContainsKey(k));
            if (orphan is not null)
            {
                throw new EvaluationInputException($"The low-quality image '{low[orphan]}' has no ground-truth pair named '{orphan}.*' in '{highQualityFolder}'.");
            }
        }
        return pairs;
    }

    /// <summary>The smallest ground-truth side that can be scored at <paramref name="scaleFactor"/>: SSIM's window plus the border on each side, rounded up to a multiple of the scale.</summary>
    internal static int MinimumSide(int scaleFactor) => (ImageQuality.WindowSize + 2 * scaleFactor + scaleFactor - 1) / scaleFactor * scaleFactor;

    private static (ImageFileFormat, int, int) Identify(string path)
    {
        try
        {
            return ImageIO.Identify(path);
        }
        catch (ImageLoadException ex)
        {
            throw new EvaluationInputException($"Cannot read '{path}': {ex.Message}");
        }
    }

    private static SortedDictionary<string, string> ImagesByName(string folder, string what)
    {
        if (!Directory.Exists(folder))
        {
            throw new EvaluationInputException($"The {what} folder '{folder}' does not exist.");
        }
        var images = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder).Where(f => Extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            if (!images.TryAdd(name, file))
            {
                throw new EvaluationInputException($"Two images in '{folder}' are named '{name}' ('{images[name]}' and '{file}'); rename one.");
            }
        }
        if (images.Count == 0)
        {
            throw new EvaluationInputException($"The {what} folder '{folder}' holds no PNG, JPEG, WebP or BMP images.");
        }
        return images;
    }
}
