using LatentIndigo.Imaging;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// The input → output pairs of a <c>restore</c> run, checked before any work starts: inputs exist, no output is an input,
/// two inputs never share an output name (a.png and a.jpg), --compare is neither the output nor an input, existing files
/// are replaced only with --force, and every output folder can be created and written to.
/// </summary>
internal static class RestorePlan
{
    /// <param name="input">Input file or folder.</param>
    /// <param name="output">Output file or folder.</param>
    /// <param name="compare">The --compare path, if any.</param>
    /// <param name="force">Replace existing outputs.</param>
    /// <param name="checkInput">Checks one input before any folder is created (size limits from the header).</param>
    public static List<(string Input, string Output)> Create(string input, string output, string? compare, bool force, Action<string> checkInput)
    {
        var jobs = Directory.Exists(input) ? FolderJobs(input, output, compare) : SingleJob(input, output);
        var outputs = jobs.Select(j => j.Output).ToList();
        if (compare is not null)
        {
            ImageIO.FormatFromExtension(compare);
            if (CliPaths.SameFile(compare, output))
            {
                throw new CliUserException($"--compare '{compare}' is the same file as -o: the comparison would replace the result. Give --compare another path.");
            }
            if (CliPaths.SameFile(compare, input))
            {
                throw new CliUserException($"--compare '{compare}' is the input image; inputs are never overwritten. Give --compare another path.");
            }
            outputs.Add(compare);
        }
        if (!force)
        {
            var existing = outputs.Where(File.Exists).ToList();
            if (existing.Count > 0)
            {
                throw new CliUserException(
                    $"{Describe(existing)} already exist{(existing.Count == 1 ? "s" : "")}. Choose another output path, or pass --force to replace {(existing.Count == 1 ? "it" : "them")}.");
            }
        }
        foreach (var job in jobs)
        {
            checkInput(job.Input);
        }
        foreach (var folder in outputs.Select(o => Path.GetDirectoryName(Path.GetFullPath(o))!).Distinct())
        {
            CliPaths.EnsureWritableFolder(folder, outputs.First(o => Path.GetDirectoryName(Path.GetFullPath(o)) == folder));
        }
        return jobs;
    }

    private static List<(string Input, string Output)> SingleJob(string input, string output)
    {
        if (!File.Exists(input))
        {
            throw new CliUserException($"The input '{input}' does not exist. Pass an image file or a folder of images.");
        }
        if (CliPaths.SameFile(input, output))
        {
            throw new CliUserException($"-o '{output}' is the input image; inputs are never overwritten, even with --force. Choose another output path.");
        }
        if (Directory.Exists(output))
        {
            throw new CliUserException($"-o '{output}' is a folder; for a single input give an output file such as {Path.Combine(output, Path.GetFileNameWithoutExtension(input) + ".png")}.");
        }
        ImageIO.FormatFromExtension(output);
        return [(input, output)];
    }

    private static List<(string Input, string Output)> FolderJobs(string input, string output, string? compare)
    {
        if (compare is not null)
        {
            throw new CliUserException("--compare works with a single input image, not a folder.");
        }
        var inputs = CliPaths.ImagesIn(input);
        if (inputs.Count == 0)
        {
            throw new CliUserException($"The folder '{input}' holds no PNG, JPEG, WebP or BMP images.");
        }
        if (CliPaths.SameFile(input, output))
        {
            throw new CliUserException("The output folder must differ from the input folder (inputs are never overwritten).");
        }
        if (File.Exists(output))
        {
            throw new CliUserException($"-o '{output}' is a file; for a folder input -o names the output folder.");
        }
        var jobs = inputs.Select(i => (Input: i, Output: Path.Combine(output, Path.GetFileNameWithoutExtension(i) + ".png"))).ToList();
        var comparer = OperatingSystem.IsLinux() ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;
        var collisions = jobs.GroupBy(j => j.Output, comparer).Where(g => g.Count() > 1).ToList();
        if (collisions.Count > 0)
        {
            var lines = collisions.Select(g =>
                $"{string.Join(" and ", g.Select(j => Path.GetFileName(j.Input)))} would {(g.Count() == 2 ? "both" : "all")} be written to '{g.Key}'");
            throw new CliUserException(
                $"Two inputs would be restored to the same output: {string.Join("; ", lines)}. Rename one of them or restore them separately; nothing was written.");
        }
        return jobs;
    }

    private static string Describe(List<string> paths) =>
        paths.Count <= 3 ? string.Join(", ", paths.Select(p => $"'{p}'")) : $"'{paths[0]}', '{paths[1]}' and {paths.Count - 2} more";
}
