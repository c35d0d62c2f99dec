using System.Text.Json;
using LatentIndigo.Evaluation;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Cli.Commands;

/// <summary>
/// The machine-readable report of <c>restore --report file.json</c>: per image the paths, sizes, strategy, device,
/// per-stage and total times in seconds and the quality figures the pipeline computed (null when not computed).
/// </summary>
internal static class RestoreReport
{
    /// <summary>Checks the report path before any work: not an input or output, not existing without --force, writable.</summary>
    public static void Check(string report, IEnumerable<(string Input, string Output)> jobs, bool force)
    {
        if (!report.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliUserException($"--report '{report}' must end in .json.");
        }
        if (jobs.Any(j => CliPaths.SameFile(report, j.Input) || CliPaths.SameFile(report, j.Output)))
        {
            throw new CliUserException($"--report '{report}' is an input or output image; give the report its own path.");
        }
        if (!force && File.Exists(report))
        {
            throw new CliUserException($"--report '{report}' already exists. Choose another path, or pass --force to replace it.");
        }
        CliPaths.EnsureParentFolder(report);
    }

    public static void Write(string report, IReadOnlyList<(string Input, string Output, RestoreResult Result)> results, RestorationPipeline pipeline, int scaleFactor)
    {
        var document = new Dictionary<string, object?>
        {
            ["version"] = LibraryInfo.Version,
            ["device"] = pipeline.Device.ToString(),
            ["executionProvider"] = pipeline.Models?.ExecutionProvider.ToString() ?? "none",
            ["standInModels"] = pipeline.Models?.IsStandIn ?? false,
            ["innEngine"] = (pipeline.PixelInn as LatentIndigo.Invertible.LiftingInn)?.Engine.ToString() ?? pipeline.PixelInn.GetType().Name,
            ["images"] = results.Select(r => new Dictionary<string, object?>
            {
                ["input"] = Path.GetFullPath(r.Input),
                ["output"] = Path.GetFullPath(r.Output),
                ["inputWidth"] = ImageIO.Identify(r.Input).Width,
                ["inputHeight"] = ImageIO.Identify(r.Input).Height,
                ["scaleFactor"] = scaleFactor,
                ["outputWidth"] = r.Result.Image.shape[3],
                ["outputHeight"] = r.Result.Image.shape[2],
                ["strategy"] = r.Result.Strategy.ToString(),
                ["usedGenerativePrior"] = r.Result.UsedGenerativePrior,
                ["stepsRun"] = r.Result.StepsRun,
                ["tiles"] = r.Result.Tiles,
                ["seconds"] = new Dictionary<string, double>(
                    r.Result.StageTimes.Select(s => KeyValuePair.Create(s.Key.ToString(), Math.Round(s.Value.TotalSeconds, 4)))
                        .Append(KeyValuePair.Create("Total", Math.Round(r.Result.Total.TotalSeconds, 4)))),
                ["metrics"] = new Dictionary<string, double?>
                {
                    ["coarsePsnr"] = Finite(r.Result.CoarsePsnr),
                    ["latentCoarsePsnr"] = Finite(r.Result.LatentCoarsePsnr),
                    ["measurementPsnr"] = Finite(r.Result.MeasurementPsnr),
                },
            }).ToList(),
        };
        var json = JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        EvaluationReport.WriteAtomically(report, json + "\n");
    }

    /// <summary>JSON has no infinity: identical images (PSNR +∞) are written as null like a value not computed.</summary>
    private static double? Finite(double? value) => value is double v && double.IsFinite(v) ? Math.Round(v, 4) : null;
}
