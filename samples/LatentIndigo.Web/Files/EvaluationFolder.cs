using LatentIndigo.Evaluation;
using LatentIndigo.Web.Hosting;
using Microsoft.Extensions.Options;

namespace LatentIndigo.Web.Files;

/// <summary>
/// The <c>latent-indigo eval</c> output folder of the Evaluation view, read-only: results.csv (read with the library's
/// <see cref="EvaluationReport.ReadCsv"/>), chart.png, grids/*.png and images/&lt;strategy&gt;/*.png. The folder is the
/// server's configuration (<c>--eval</c>); a client picks a listed image by its index, never by a path.
/// </summary>
public sealed class EvaluationFolder(IOptions<DemoSettings> options)
{
    private readonly string? folder = options.Value.EvalFolder is { } f ? Path.GetFullPath(f) : null;

    /// <summary>True when an evaluation folder was configured.</summary>
    public bool IsConfigured => folder is not null;

    /// <summary>The report: rows, means per strategy, and the listed images.</summary>
    /// <exception cref="EvaluationInputException">results.csv is missing or not an evaluation's.</exception>
    public EvaluationView Read()
    {
        if (folder is null)
        {
            throw new InvalidOperationException("No evaluation folder is configured.");
        }
        string csv = Path.Combine(folder, "results.csv");
        if (!File.Exists(csv))
        {
            throw new EvaluationInputException($"The evaluation folder '{Path.GetFileName(folder)}' holds no results.csv: run latent-indigo eval --out <folder> first, then start the demo with --eval <folder>.");
        }
        var records = EvaluationReport.ReadCsv(csv);
        var rows = records.Select(r => new EvaluationRow(r.Image, r.Strategy, Finite(r.Scores.PsnrY), r.Scores.SsimY, Finite(r.Scores.LrPsnr), r.Scores.Perceptual,
            Math.Round(r.Time.TotalSeconds, 3), Math.Round(r.PeakMemoryBytes / (1024.0 * 1024.0), 1))).ToList();
        var means = records.GroupBy(r => r.Strategy).Select(g => new EvaluationMean(g.Key, g.Count(),
            Finite(g.Average(r => r.Scores.PsnrY)), g.Average(r => r.Scores.SsimY), Math.Round(g.Average(r => r.Time.TotalSeconds), 3))).ToList();
        return new EvaluationView(Path.GetFileName(folder), rows, means, Images().Select((f, i) => new EvaluationImage(i, f.Kind, f.Name)).ToList());
    }

    /// <summary>The file of a listed image (by its index in <see cref="EvaluationView.Images"/>), or null.</summary>
    public string? ImagePath(int index)
    {
        var images = Images();
        return index >= 0 && index < images.Count ? images[index].Path : null;
    }

    // chart, then grids, then per-strategy outputs, each sorted: the same order on every call.
    private List<(string Kind, string Name, string Path)> Images()
    {
        var list = new List<(string Kind, string Name, string Path)>();
        if (folder is null)
        {
            return list;
        }
        string chart = Path.Combine(folder, "chart.png");
        if (File.Exists(chart))
        {
            list.Add(("chart", "chart.png", chart));
        }
        string grids = Path.Combine(folder, "grids");
        if (Directory.Exists(grids))
        {
            list.AddRange(Directory.EnumerateFiles(grids, "*.png").Order(StringComparer.Ordinal).Select(p => ("grid", Path.GetFileName(p), p)));
        }
        string images = Path.Combine(folder, "images");
        if (Directory.Exists(images))
        {
            foreach (var strategy in Directory.EnumerateDirectories(images).Order(StringComparer.Ordinal))
            {
                list.AddRange(Directory.EnumerateFiles(strategy, "*.png").Order(StringComparer.Ordinal)
                    .Select(p => ("output", $"{Path.GetFileName(strategy)}/{Path.GetFileName(p)}", p)));
            }
        }
        return list;
    }

    private static double? Finite(double? v) => v is double d && double.IsFinite(d) ? Math.Round(d, 3) : null;
}

/// <summary>What the Evaluation view shows.</summary>
public sealed record EvaluationView(string Folder, IReadOnlyList<EvaluationRow> Rows, IReadOnlyList<EvaluationMean> Means, IReadOnlyList<EvaluationImage> Images);

/// <summary>One row of results.csv (PSNR null when infinite).</summary>
public sealed record EvaluationRow(string Image, string Strategy, double? PsnrY, double SsimY, double? LrPsnr, double? Perceptual, double Seconds, double PeakMemoryMiB);

/// <summary>The mean of one strategy.</summary>
public sealed record EvaluationMean(string Strategy, int Images, double? PsnrY, double SsimY, double Seconds);

/// <summary>A listed image of the folder.</summary>
/// <param name="Index">Its key in <c>GET /api/eval/images/{index}</c>.</param>
/// <param name="Kind">chart, grid or output.</param>
/// <param name="Name">Its name relative to its kind's folder.</param>
public sealed record EvaluationImage(int Index, string Kind, string Name);
