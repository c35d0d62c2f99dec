using LatentIndigo.Evaluation;
using LatentIndigo.Imaging;
using LatentIndigo.Tests.Batch;
using LatentIndigo.Tests.Cli;
using Xunit;

namespace LatentIndigo.Tests.Reliability;

/// <summary>Issue 26, items 7 and 9: odd file names keep the eval CSV readable; eval and degrade fail before leaving a wrong or half result.</summary>
public class ReportsAndMessagesTests
{
    [Fact]
    public void Eval_csv_with_a_newline_quote_comma_and_bar_in_a_name_reads_back_as_written()
    {
        using var folder = TestData.NewTempFolder();
        var records = new[]
        {
            new EvaluationRecord("two\nlines.png", "bicubic", new EvaluationScores(31.25, 0.875, 40.5, null), TimeSpan.FromSeconds(1.5), 3 * 1024 * 1024),
            new EvaluationRecord("say \"hi\", then|go\r\n.png", "pixel", new EvaluationScores(double.PositiveInfinity, 1, null, 0.125), TimeSpan.FromSeconds(2), 0),
            new EvaluationRecord("plain.png", "pixel", new EvaluationScores(20, 0.5, null, null), TimeSpan.Zero, 0),
        };
        string csv = folder.File("results.csv");
        EvaluationReport.WriteAtomically(csv, EvaluationReport.ToCsv(records));
        var read = EvaluationReport.ReadCsv(csv);
        Assert.Equal(records.Select(r => (r.Image, r.Strategy, r.Scores)), read.Select(r => (r.Image, r.Strategy, r.Scores)));
        Assert.Equal(records.Select(r => r.Time), read.Select(r => r.Time));

        var markdown = EvaluationReport.ToMarkdown(read, ["bicubic", "pixel"], "t", []);
        var perImage = markdown[markdown.IndexOf("## Per image", StringComparison.Ordinal)..].Split('\n').Where(l => l.StartsWith('|')).Skip(2).ToList();
        Assert.Equal(3, perImage.Count);
        Assert.Contains(perImage, r => r.StartsWith("| two\\nlines.png | bicubic |", StringComparison.Ordinal));
    }

    [Fact]
    public void Eval_refuses_an_image_too_small_to_score_before_any_work_with_its_size_and_the_minimum()
    {
        using var folder = TestData.NewTempFolder();
        string hr = BatchTestImages.Write(folder.File("hr"), 2, width: 64, height: 64);
        BatchTestImages.Write(folder.File("small"), 1, width: 6, height: 6, seed: 5);
        File.Copy(folder.File("small/img0.png"), Path.Combine(hr, "tiny.png"));
        var refused = Assert.Throws<EvaluationInputException>(() => EvaluationPairs.FromFolders(hr, null, 2));
        Assert.Contains("tiny.png", refused.Message);
        Assert.Contains("(6×6) is too small to score at ×2", refused.Message);
        Assert.Contains("at least 16×16", refused.Message); // 11 + 2·2 = 15, rounded up to a multiple of 2
        Assert.Equal(16, EvaluationPairs.MinimumSide(2));
        Assert.Equal(20, EvaluationPairs.MinimumSide(4)); // 11 + 8 = 19 → 20

        var (code, text) = CliRun.Run("eval", "--hr", hr, "--degradation", "bicubic:x2", "--strategies", "bicubic", "--out", folder.File("out"));
        Assert.Equal(1, code);
        Assert.Contains("too small to score", text);
        Assert.DoesNotContain("report it", text);
        Assert.DoesNotContain("unexpected", text);
        Assert.False(File.Exists(folder.File("out/results.csv")));
    }

    [Fact]
    public void Degrade_never_leaves_a_low_quality_image_without_its_sidecar()
    {
        using var folder = TestData.NewTempFolder();
        string input = BatchTestImages.Write(folder.File("in"), 1, width: 16, height: 16);
        string output = folder.File("out");
        // The sidecar cannot be written (a folder stands at its path): the LQ image must not be left alone either.
        Directory.CreateDirectory(Path.Combine(output, "lq", "img0.json"));
        var (code, text) = CliRun.Run("degrade", "-i", input, "-d", "bicubic:x2", "-o", output, "--seed", "1");
        Assert.Equal(1, code);
        Assert.False(CliRun.HasStackTrace(text));
        Assert.False(File.Exists(Path.Combine(output, "lq", "img0.png")), text);

        // A failing image write takes the new sidecar back out.
        Directory.Delete(Path.Combine(output, "lq", "img0.json"));
        Directory.CreateDirectory(Path.Combine(output, "lq", "img0.png"));
        (code, text) = CliRun.Run("degrade", "-i", input, "-d", "bicubic:x2", "-o", output, "--seed", "1");
        Assert.Equal(1, code);
        Assert.False(File.Exists(Path.Combine(output, "lq", "img0.json")), text);
    }
}
