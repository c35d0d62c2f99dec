using LatentIndigo.Pipeline;

namespace LatentIndigo.Web.Jobs;

/// <summary>
/// The figures of a finished restore, as the CLI's <c>restore</c> table and <c>--report</c> give them: sizes, strategy,
/// time per stage and the quality figures the pipeline computed (null when not computed or infinite).
/// </summary>
public sealed record RestoreSummary(
    int InputWidth,
    int InputHeight,
    int Width,
    int Height,
    string Strategy,
    bool UsedGenerativePrior,
    bool StandInModels,
    int StepsRun,
    int Tiles,
    IReadOnlyDictionary<string, double> Seconds,
    double TotalSeconds,
    double? CoarsePsnr,
    double? MeasurementPsnr)
{
    /// <summary>The summary of a pipeline result.</summary>
    public static RestoreSummary From(RestoreResult result, int inputWidth, int inputHeight) => new(
        inputWidth,
        inputHeight,
        (int)result.Image.shape[3],
        (int)result.Image.shape[2],
        GuidanceStrategyNames.Name(result.Strategy),
        result.UsedGenerativePrior,
        result.UsedStandInModels,
        result.StepsRun,
        Math.Max(1, result.Tiles),
        result.StageTimes.Where(s => s.Key != RestoreStage.Completed && s.Value > TimeSpan.Zero)
            .ToDictionary(s => s.Key.ToString(), s => Math.Round(s.Value.TotalSeconds, 3)),
        Math.Round(result.Total.TotalSeconds, 3),
        Finite(result.CoarsePsnr),
        Finite(result.MeasurementPsnr));

    // JSON has no infinity: identical images (PSNR +∞) are reported as null, as the CLI's report does.
    private static double? Finite(double? value) => value is double v && double.IsFinite(v) ? Math.Round(v, 2) : null;
}
