using LatentIndigo.Evaluation;
using LatentIndigo.Imaging;
using ScottPlot;

namespace LatentIndigo.Cli.Commands;

/// <summary>The bar chart of <c>eval</c>: mean PSNR-Y and SSIM-Y per strategy, side by side.</summary>
internal static class EvalChart
{
    public static void Save(IReadOnlyList<EvaluationRecord> records, IReadOnlyList<string> strategies, string path)
    {
        UseSystemFont();
        var present = strategies.Where(s => records.Any(r => r.Strategy == s)).ToList();
        int width = Math.Max(480, 110 * present.Count);
        var psnr = new Plot();
        Fill(psnr, present, s => Mean(records, s, r => r.Scores.PsnrY), "mean PSNR-Y (dB)", "F2");
        var ssim = new Plot();
        Fill(ssim, present, s => Mean(records, s, r => r.Scores.SsimY), "mean SSIM-Y", "F4");
        using var scope = TorchSharp.torch.NewDisposeScope();
        var image = TorchSharp.torch.cat(new[]
        {
            ImageIO.Decode(psnr.GetImageBytes(width, 420, ImageFormat.Png), path),
            ImageIO.Decode(ssim.GetImageBytes(width, 420, ImageFormat.Png), path),
        }, 3);
        // Through ImageIO so the file is written atomically like every other output.
        ImageIO.Save(image, path, new ImageSaveOptions { Overwrite = true });
    }

    private static void Fill(Plot plot, List<string> strategies, Func<string, double> value, string title, string format)
    {
        var bars = strategies.Select((s, i) =>
        {
            double v = value(s);
            return new Bar { Position = i, Value = double.IsFinite(v) ? v : 0, Label = v.ToString(format, System.Globalization.CultureInfo.InvariantCulture) };
        }).ToList();
        var plotted = plot.Add.Bars(bars);
        plotted.ValueLabelStyle.FontSize = 12;
        plot.Axes.Bottom.SetTicks(strategies.Select((_, i) => (double)i).ToArray(), strategies.ToArray());
        plot.Title(title);
        plot.Axes.Title.Label.Bold = false;
        var finite = bars.Select(b => b.Value).Where(v => v > 0).DefaultIfEmpty(1).ToList();
        double low = finite.Min(), high = finite.Max();
        double margin = Math.Max((high - low) * 0.5, Math.Abs(high) * 0.02 + 1e-6);
        plot.Axes.SetLimitsY(Math.Max(0, low - margin), high + margin);
    }

    // ScottPlot draws with SkiaSharp, which sees no system fonts in the CLI's build (CliFonts): register one by file.
    private static void UseSystemFont()
    {
        if (CliFonts.SansSerifFile() is { } file)
        {
            Fonts.AddFontFile("eval-sans", file);
            Fonts.Default = "eval-sans";
        }
    }

    private static double Mean(IReadOnlyList<EvaluationRecord> records, string strategy, Func<EvaluationRecord, double> value)
    {
        var values = records.Where(r => r.Strategy == strategy).Select(value).Where(double.IsFinite).ToList();
        return values.Count == 0 ? double.NaN : values.Average();
    }
}
