namespace LatentIndigo.Batch;

/// <summary>Builds the image list of a batch from a folder or a manifest file, checking it before any work.</summary>
public static class BatchInputs
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".webp", ".bmp" };

    /// <summary>
    /// The images of <paramref name="inputFolder"/> (PNG, JPEG, WebP, BMP; not recursive; sorted by name), each paired with
    /// the image of the same name (any of those extensions) in <paramref name="groundTruthFolder"/> when one is given.
    /// </summary>
    /// <exception cref="BatchInputException">A folder is missing, there is no image, or an input has no ground truth.</exception>
    public static IReadOnlyList<BatchImage> FromFolder(string inputFolder, string? groundTruthFolder = null)
    {
        ArgumentNullException.ThrowIfNull(inputFolder);
        var inputs = Images(inputFolder, "input");
        if (inputs.Count == 0)
        {
            throw new BatchInputException($"The input folder '{inputFolder}' holds no PNG, JPEG, WebP or BMP image.");
        }
        Dictionary<string, string>? truths = null;
        if (groundTruthFolder is not null)
        {
            truths = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var path in Images(groundTruthFolder, "ground-truth"))
            {
                truths.TryAdd(Path.GetFileNameWithoutExtension(path), path);
            }
        }
        var images = new List<BatchImage>();
        foreach (var input in inputs)
        {
            string? truth = null;
            if (truths is not null && !truths.TryGetValue(Path.GetFileNameWithoutExtension(input), out truth))
            {
                throw new BatchInputException(
                    $"The input '{input}' has no ground truth named '{Path.GetFileNameWithoutExtension(input)}.*' in '{groundTruthFolder}'. Give a ground truth for every input, or none.");
            }
            images.Add(new BatchImage(input, truth));
        }
        return CheckUniqueOutputs(images);
    }

    /// <summary>
    /// Reads a manifest: one image per line, <c>input</c> or <c>input,ground-truth</c> (relative paths are relative to
    /// the manifest's folder); empty lines and lines starting with <c>#</c> are skipped.
    /// </summary>
    /// <exception cref="BatchInputException">The manifest is missing or empty, a line has more than two fields, or a
    /// listed file does not exist (the message gives the line number).</exception>
    public static IReadOnlyList<BatchImage> FromManifest(string manifestPath)
    {
        ArgumentNullException.ThrowIfNull(manifestPath);
        if (!File.Exists(manifestPath))
        {
            throw new BatchInputException($"The manifest '{manifestPath}' does not exist.");
        }
        string baseFolder = Path.GetDirectoryName(Path.GetFullPath(manifestPath)) ?? ".";
        var images = new List<BatchImage>();
        int lineNumber = 0;
        foreach (var raw in File.ReadLines(manifestPath))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var fields = line.Split(',', StringSplitOptions.TrimEntries);
            if (fields.Length > 2 || fields.Any(f => f.Length == 0))
            {
                throw new BatchInputException(
                    $"Line {lineNumber} of the manifest '{manifestPath}' is not 'input' or 'input,ground-truth': '{line}'.");
            }
            string input = Resolve(fields[0], baseFolder, manifestPath, lineNumber, "input");
            string? truth = fields.Length == 2 ? Resolve(fields[1], baseFolder, manifestPath, lineNumber, "ground truth") : null;
            images.Add(new BatchImage(input, truth));
        }
        if (images.Count == 0)
        {
            throw new BatchInputException($"The manifest '{manifestPath}' lists no image (one path per line, optionally ',ground-truth').");
        }
        if (images.Any(i => i.GroundTruthPath is null) && images.Any(i => i.GroundTruthPath is not null))
        {
            throw new BatchInputException($"The manifest '{manifestPath}' gives a ground truth for some images but not all: give one for every line, or none.");
        }
        return CheckUniqueOutputs(images);
    }

    /// <summary>Refuses two inputs that would write the same output (a.jpg and a.png both make a.png) or one input listed twice.</summary>
    internal static IReadOnlyList<BatchImage> CheckUniqueOutputs(IReadOnlyList<BatchImage> images)
    {
        var clash = images.GroupBy(i => i.OutputName, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            throw new BatchInputException(
                $"These inputs would all be written to '{clash.Key}': {string.Join(", ", clash.Select(i => $"'{i.InputPath}'"))}. Rename one, or restore them in separate jobs.");
        }
        return images;
    }

    private static string Resolve(string path, string baseFolder, string manifest, int line, string what)
    {
        string full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(baseFolder, path));
        if (!File.Exists(full))
        {
            throw new BatchInputException($"Line {line} of the manifest '{manifest}': the {what} '{path}' does not exist (looked for '{full}').");
        }
        return full;
    }

    private static List<string> Images(string folder, string what)
    {
        if (!Directory.Exists(folder))
        {
            throw new BatchInputException($"The {what} folder '{folder}' does not exist.");
        }
        return Directory.EnumerateFiles(folder)
            .Where(f => Extensions.Contains(Path.GetExtension(f)) && !Path.GetFileName(f).StartsWith('.'))
            .Select(Path.GetFullPath)
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
