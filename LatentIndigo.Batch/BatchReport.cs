using System.Globalization;
using System.Text;

namespace LatentIndigo.Batch;

/// <summary>The outcome of <see cref="RestoreBatch.RunAsync"/>: every image's record and this run's figures.</summary>
/// <param name="Images">Every image of the job, in job order, as the journal records it.</param>
/// <param name="RestoredThisRun">Images restored in this run.</param>
/// <param name="FailedThisRun">Images that failed in this run.</param>
/// <param name="DoneBefore">Images already done when this run started (a resume skips them).</param>
/// <param name="Elapsed">Wall time of this run.</param>
/// <param name="Concurrency">Restorations run at once.</param>
public sealed record BatchReport(IReadOnlyList<BatchImageRecord> Images, int RestoredThisRun, int FailedThisRun, int DoneBefore, TimeSpan Elapsed, int Concurrency)
{
    /// <summary>Images done.</summary>
    public int Done => Images.Count(i => i.State == BatchImageState.Done);

    /// <summary>Images failed.</summary>
    public int Failed => Images.Count(i => i.State == BatchImageState.Failed);

    /// <summary>Images restored per minute of this run's wall time (0 when none was).</summary>
    public double ImagesPerMinute => RestoredThisRun == 0 || Elapsed <= TimeSpan.Zero ? 0 : RestoredThisRun / Elapsed.TotalMinutes;

    /// <summary>
    /// The report as Markdown: counts and throughput, time per image, the consistency figures (how well outputs
    /// re-degrade to their inputs), the ground-truth scores when given (PSNR-Y, SSIM-Y, as <c>eval</c> computes them),
    /// and a row per image with its output hash or failure.
    /// </summary>
    public string ToMarkdown()
    {
        var md = new StringBuilder("# Batch report\n\n");
        var done = Images.Where(i => i.State == BatchImageState.Done).ToList();
        md.Append(Invariant($"- images: {Images.Count}; done {Done}, failed {Failed}, pending {Images.Count - Done - Failed}\n"));
        md.Append(Invariant($"- this run: {RestoredThisRun} restored, {FailedThisRun} failed, {DoneBefore} done before; {Elapsed.TotalSeconds:F1} s wall at concurrency {Concurrency}, {ImagesPerMinute:F2} images/min\n"));
        var times = done.Where(i => i.Time is not null).Select(i => i.Time!.Value.TotalSeconds).Order().ToList();
        if (times.Count > 0)
        {
            md.Append(Invariant($"- seconds per image: mean {times.Average():F2}, median {times[times.Count / 2]:F2}, min {times[0]:F2}, max {times[^1]:F2}\n"));
        }
        AppendStat(md, "coarse PSNR (output re-degraded by the INN vs input)", done.Select(i => i.CoarsePsnr));
        AppendStat(md, "measured PSNR (output re-degraded by the known degradation vs input)", done.Select(i => i.MeasurementPsnr));
        var scored = done.Where(i => i.Scores is not null).ToList();
        if (scored.Count > 0)
        {
            md.Append("\n## Against ground truth\n\n| images | PSNR-Y (dB) | SSIM-Y | LR PSNR (dB) |\n|---:|---:|---:|---:|\n");
            var lr = scored.Where(i => i.Scores!.LrPsnr is not null).ToList();
            md.Append(Invariant($"| {scored.Count} | {scored.Average(i => i.Scores!.PsnrY):F2} | {scored.Average(i => i.Scores!.SsimY):F4} | "))
                .Append(lr.Count > 0 ? Invariant($"{lr.Average(i => i.Scores!.LrPsnr!.Value):F2}") : "-").Append(" |\n");
        }
        md.Append("\n## Per image\n\n| image | state | seconds | UNet s | VAE s | INN s | coarse PSNR | measured PSNR |");
        md.Append(scored.Count > 0 ? " PSNR-Y | SSIM-Y |" : "").Append(" output SHA-256 | note |\n|---|---|---:|---:|---:|---:|---:|---:|");
        md.Append(scored.Count > 0 ? "---:|---:|" : "").Append("---|---|\n");
        foreach (var i in Images)
        {
            md.Append(Invariant($"| {MarkdownText.Cell(Path.GetFileName(i.InputPath))} | {i.State} | {Cell(i.Time?.TotalSeconds, "F2")} | {Cell(i.UnetTime?.TotalSeconds, "F2")} | "))
                .Append(Invariant($"{Cell(i.VaeTime?.TotalSeconds, "F2")} | {Cell(i.InnTime?.TotalSeconds, "F2")} | {Cell(i.CoarsePsnr, "F2")} | {Cell(i.MeasurementPsnr, "F2")} |"));
            if (scored.Count > 0)
            {
                md.Append(Invariant($" {Cell(i.Scores?.PsnrY, "F2")} | {Cell(i.Scores?.SsimY, "F4")} |"));
            }
            md.Append($" {(i.OutputSha256 is null ? "-" : i.OutputSha256[..12])} | {MarkdownText.Cell(i.Error ?? "")} |\n");
        }
        return md.ToString();
    }

    private static void AppendStat(StringBuilder md, string name, IEnumerable<double?> values)
    {
        var list = values.Where(v => v is not null).Select(v => v!.Value).ToList();
        if (list.Count > 0)
        {
            md.Append(Invariant($"- {name}: mean {list.Average():F2} dB, min {list.Min():F2} dB\n"));
        }
    }

    private static string Cell(double? value, string format) => value is double v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
