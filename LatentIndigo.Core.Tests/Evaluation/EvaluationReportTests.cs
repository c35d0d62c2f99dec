using LatentIndigo.Evaluation;
using Xunit;

namespace LatentIndigo.Tests.Evaluation;

public class EvaluationReportTests
{
    [Fact]
    public void Csv_round_trips_including_infinity_empty_cells_and_quoted_names()
    {
        var records = new[]
        {
            new EvaluationRecord("a,b \"x\"", "inn-only", new EvaluationScores(31.25, 0.875, 45.5, null), TimeSpan.FromSeconds(1.5), 300L * 1024 * 1024),
            new EvaluationRecord("c", "bicubic", new EvaluationScores(double.PositiveInfinity, 1, null, 0.125), TimeSpan.Zero, 0),
        };
        using var folder = TestData.NewTempFolder();
        string path = folder.File("results.csv");
        EvaluationReport.WriteAtomically(path, EvaluationReport.ToCsv(records));
        Assert.StartsWith("image,strategy,psnr_y,ssim_y,", File.ReadAllText(path));
        var back = EvaluationReport.ReadCsv(path);
        Assert.Equal(records, back);
        Assert.Single(Directory.GetFiles(folder.Path)); // no temporary file left behind
    }

    [Fact]
    public void Markdown_has_the_mean_per_strategy_in_the_given_order()
    {
        var records = new[]
        {
            new EvaluationRecord("x", "inn-only", new EvaluationScores(30, 0.8, null, null), TimeSpan.FromSeconds(2), 0),
            new EvaluationRecord("y", "inn-only", new EvaluationScores(32, 0.9, null, null), TimeSpan.FromSeconds(4), 0),
            new EvaluationRecord("x", "bicubic", new EvaluationScores(29, 0.7, null, null), TimeSpan.Zero, 0),
        };
        string md = EvaluationReport.ToMarkdown(records, ["bicubic", "inn-only"], "T", ["note"]);
        Assert.Contains("| inn-only | 2 | 31.00 | 0.8500 | - | - | 3.00 |", md);
        Assert.True(md.IndexOf("| bicubic | 1 |", StringComparison.Ordinal) < md.IndexOf("| inn-only | 2 |", StringComparison.Ordinal));
        Assert.Contains("- note", md);
    }

    [Fact]
    public void A_foreign_csv_is_refused_with_its_name()
    {
        using var folder = TestData.NewTempFolder();
        string path = folder.File("results.csv");
        File.WriteAllText(path, "a,b\n1,2\n");
        var ex = Assert.Throws<EvaluationInputException>(() => EvaluationReport.ReadCsv(path));
        Assert.Contains(path, ex.Message);
    }
}
