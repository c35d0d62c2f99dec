using System.Globalization;
using LatentIndigo.Evaluation;
using LatentIndigo.Imaging;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Cli;

public class EvalCommandTests
{
    /// <summary>Two small CC0 crops (64×48 and 51×40: the second is not a multiple of 4, so it is mod-cropped to 48×40).</summary>
    private static string GroundTruth(TestData.TempFolder folder)
    {
        string hr = folder.File("hr");
        Directory.CreateDirectory(hr);
        using var chelsea = ImageIO.Load(TestData.Cc0("chelsea.png"));
        ImageIO.Save(chelsea.narrow(2, 60, 48).narrow(3, 180, 64), Path.Combine(hr, "cat.png"));
        using var camera = ImageIO.Load(TestData.Cc0("camera.png"));
        ImageIO.Save(camera.narrow(2, 100, 40).narrow(3, 200, 51), Path.Combine(hr, "man.png"));
        return hr;
    }

    /// <summary>
    /// The grid's top <see cref="LatentIndigo.Cli.Commands.EvalGridLabels.Height"/> rows are a white strip with dark text
    /// above each panel (different text for each, none in the gaps), and the panels start right below it: the first
    /// image row is not the strip's white.
    /// </summary>
    private static void AssertLabelled(string gridFile, int panels, int panelWidth, int gap)
    {
        Assert.True(LatentIndigo.Cli.CliFonts.SansSerifFile() is not null,
            "no sans-serif TrueType font (DejaVu Sans, Liberation Sans, Noto Sans, Arial) is installed: eval grids are then unlabelled; install fonts-dejavu-core");
        using var grid = ImageIO.Load(gridFile);
        int strip = LatentIndigo.Cli.Commands.EvalGridLabels.Height;
        // Ink: a pixel darker than mid-grey in every channel.
        using var ink = grid.narrow(2, 0, strip).max(1).values.lt(0.5);
        var masks = new List<torch.Tensor>();
        for (int i = 0; i < panels; i++)
        {
            var over = ink.narrow(2, i * (panelWidth + gap), panelWidth);
            Assert.True(over.sum().item<long>() >= 10, $"panel {i} has no label");
            masks.Add(over);
            if (i < panels - 1)
            {
                Assert.Equal(0, ink.narrow(2, i * (panelWidth + gap) + panelWidth, gap).sum().item<long>());
            }
        }
        for (int i = 1; i < panels; i++)
        {
            Assert.False(masks[i].equal(masks[0]).all().item<bool>(), $"panel {i}'s label looks like panel 0's");
        }
        Assert.Equal(0, ink.narrow(1, 0, 1).sum().item<long>()); // the strip's top row is blank
        Assert.True(grid.narrow(2, strip, 1).narrow(3, 0, panelWidth).lt(0.99).any().item<bool>(), "the first panel does not start below the strip");
    }

    private static List<string[]> Rows(string output) =>
        File.ReadAllLines(Path.Combine(output, "results.csv")).Skip(1).Select(l => l.Split(',')).ToList();

    [Fact]
    public void Scores_bicubic_and_inn_only_against_the_ground_truth_and_writes_every_output()
    {
        using var folder = TestData.NewTempFolder();
        string hr = GroundTruth(folder), output = folder.File("out");
        var (code, text) = CliRun.Run("eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "bicubic,inn-only", "--out", output, "--seed", "3");
        Assert.True(code == 0, text);

        var header = File.ReadLines(Path.Combine(output, "results.csv")).First().Split(',');
        Assert.Equal(["image", "strategy", "psnr_y", "ssim_y"], header.Take(4));
        var rows = Rows(output);
        Assert.Equal(["cat/bicubic", "cat/inn-only", "man/bicubic", "man/inn-only"], rows.Select(r => $"{r[0]}/{r[1]}"));
        foreach (var row in rows)
        {
            // The CSV scores are those of the written image against the (mod-cropped) ground truth.
            string image = Path.Combine(output, "images", row[1], row[0] + ".png");
            using var restored = ImageIO.Load(image);
            using var truth = LatentIndigo.Evaluation.ImageEvaluator.ModCrop(ImageIO.Load(Path.Combine(hr, row[0] + ".png")), 4);
            Assert.Equal(truth.shape, restored.shape);
            // The CSV rounds PSNR to 4 and SSIM to 6 decimals: compare within that rounding (a 5-place comparison of the
            // rounded value failed when the true value sat next to a rounding boundary, 0.7406453 vs 0.740645).
            Assert.Equal(ImageQuality.PsnrY(restored, truth, 4), double.Parse(row[2], CultureInfo.InvariantCulture), 0.5e-4 + 1e-9);
            Assert.Equal(ImageQuality.SsimY(restored, truth, 4), double.Parse(row[3], CultureInfo.InvariantCulture), 0.5e-6 + 1e-9);
            Assert.InRange(double.Parse(row[2], CultureInfo.InvariantCulture), 15, 50);
            Assert.True(double.Parse(row[6], CultureInfo.InvariantCulture) >= 0);
            Assert.True(double.Parse(row[7], CultureInfo.InvariantCulture) > 0); // peak memory measured
        }
        // The INN inverts the bicubic degradation it was trained on: its output re-degrades closer to the input.
        foreach (var image in new[] { "cat", "man" })
        {
            double LrPsnr(string strategy) => double.Parse(rows.Single(r => r[0] == image && r[1] == strategy)[4], CultureInfo.InvariantCulture);
            Assert.True(LrPsnr("inn-only") > LrPsnr("bicubic"), $"{image}: LR PSNR inn-only {LrPsnr("inn-only")} vs bicubic {LrPsnr("bicubic")}");
        }
        // Grid: a label strip, LQ, bicubic, inn-only, HR below it, zoomed crops below those.
        Assert.Equal((ImageFileFormat.Png, 4 * 64 + 3 * 8, LatentIndigo.Cli.Commands.EvalGridLabels.Height + 2 * 48 + 8),
            ImageIO.Identify(Path.Combine(output, "grids", "cat.png")));
        AssertLabelled(Path.Combine(output, "grids", "cat.png"), panels: 4, panelWidth: 64, gap: 8);
        // Redirected (the test console cannot redraw): plain lines, one per image and strategy, and a last one.
        Assert.DoesNotContain('\r', text);
        Assert.Contains("eval 1/4: cat bicubic", text);
        Assert.Contains("eval 4/4: man inn-only", text);
        Assert.Contains("eval 4/4 done", text);
        Assert.True(ImageIO.Identify(Path.Combine(output, "chart.png")).Width > 0);
        string md = File.ReadAllText(Path.Combine(output, "results.md"));
        Assert.Contains("| inn-only | 2 |", md);
        Assert.Contains("bicubic:x4", md);
        Assert.Contains("[cat](grids/cat.png)", md);
        Assert.Contains("](chart.png)", md);
        Assert.Contains("mean per strategy", text);
    }

    [Fact]
    public void Resumes_per_image_recomputes_what_is_missing_and_starts_again_with_force()
    {
        using var folder = TestData.NewTempFolder();
        string hr = GroundTruth(folder), output = folder.File("out");
        string[] args = ["eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "bicubic", "--out", output];
        Assert.Equal(0, CliRun.Run(args).Code);
        string cat = Path.Combine(output, "images", "bicubic", "cat.png"), man = Path.Combine(output, "images", "bicubic", "man.png");
        var old = DateTime.UnixEpoch;
        File.SetLastWriteTimeUtc(cat, old);
        File.SetLastWriteTimeUtc(man, old);

        // Same settings, one more strategy: only inn-only runs; the bicubic images stay untouched.
        var (code, text) = CliRun.Run(["eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "bicubic,inn-only", "--out", output]);
        Assert.True(code == 0, text);
        Assert.Equal(old, File.GetLastWriteTimeUtc(cat));
        Assert.Equal(4, Rows(output).Count);
        Assert.True(File.Exists(Path.Combine(output, "images", "inn-only", "man.png")));

        // Everything done: skipped. A deleted output is made again, for that image only.
        File.Delete(man);
        (code, text) = CliRun.Run(["eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "bicubic,inn-only", "--out", output]);
        Assert.True(code == 0, text);
        Assert.Contains("Resumed: 1 image(s)", text);
        Assert.Equal(old, File.GetLastWriteTimeUtc(cat));
        Assert.True(File.Exists(man));
        Assert.Equal(4, Rows(output).Count);

        // Other settings: refused (the results would mix); --force starts again.
        (code, text) = CliRun.Run(["eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "bicubic", "--out", output, "--seed", "9"]);
        Assert.Equal(1, code);
        Assert.Contains("other settings", text);
        (code, text) = CliRun.Run(["eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "bicubic", "--out", output, "--seed", "9", "--force"]);
        Assert.True(code == 0, text);
        Assert.NotEqual(old, File.GetLastWriteTimeUtc(cat));
        Assert.Equal(2, Rows(output).Count);
    }

    [Fact]
    public void Given_lq_pairs_are_scored_without_lr_consistency_unless_a_spec_is_given()
    {
        using var folder = TestData.NewTempFolder();
        string hr = GroundTruth(folder), lq = folder.File("lq");
        Directory.CreateDirectory(lq);
        foreach (var name in new[] { "cat", "man" })
        {
            using var truth = LatentIndigo.Evaluation.ImageEvaluator.ModCrop(ImageIO.Load(Path.Combine(hr, name + ".png")), 4);
            using var small = torch.nn.functional.avg_pool2d(truth, 4);
            ImageIO.Save(small, Path.Combine(lq, name + ".png"));
        }
        var (code, text) = CliRun.Run("eval", "--hr", hr, "--lq", lq, "--strategies", "bicubic", "--out", folder.File("out"));
        Assert.True(code == 0, text);
        Assert.All(Rows(folder.File("out")), r => Assert.Equal("", r[4]));
    }

    [Fact]
    public void Stand_in_strategy_runs_end_to_end_and_says_it_is_no_prior()
    {
        using var folder = TestData.NewTempFolder();
        string hr = folder.File("hr");
        Directory.CreateDirectory(hr);
        using (var chelsea = ImageIO.Load(TestData.Cc0("chelsea.png")))
        {
            ImageIO.Save(chelsea.narrow(2, 60, 64).narrow(3, 180, 64), Path.Combine(hr, "cat.png"));
        }
        var (code, text) = CliRun.Run("eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "bicubic,pixel", "--stand-in", "--steps", "2",
            "--out", folder.File("out"));
        Assert.True(code == 0, text);
        Assert.Contains("STAND-IN", text);
        Assert.Equal((ImageFileFormat.Png, 64, 64), ImageIO.Identify(folder.File("out/images/pixel/cat.png")));
        Assert.Equal(2, Rows(folder.File("out")).Count);
    }

    [Fact]
    public void Bad_input_gets_one_line_naming_the_option_or_file_and_writes_nothing()
    {
        using var folder = TestData.NewTempFolder();
        string hr = GroundTruth(folder), output = folder.File("out");
        Directory.CreateDirectory(folder.File("empty"));
        string lq = folder.File("lq");
        Directory.CreateDirectory(lq);
        ImageIO.Save(torch.rand(1, 3, 12, 16), Path.Combine(lq, "cat.png"));

        void Refused(int expected, string mentions, params string[] args)
        {
            var (code, text) = CliRun.Run(args);
            Assert.True(code == expected, $"{string.Join(' ', args)} → {code}: {text}");
            Assert.Contains(mentions, text);
            Assert.False(CliRun.HasStackTrace(text), text);
            Assert.False(Directory.Exists(output), $"{string.Join(' ', args)} wrote {output}");
        }

        Refused(2, "--strategies", "eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "bicubic,sharpen", "--out", output);
        Refused(2, "--degradation", "eval", "--hr", hr, "--strategies", "bicubic", "--out", output);
        Refused(2, "nothing to refine", "eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "bicubic,inn-only+blind", "--out", output);
        Refused(2, "--out", "eval", "--hr", hr, "--degradation", "bicubic:x4");
        Refused(1, "blurry", "eval", "--hr", hr, "--degradation", "blurry:x4", "--out", output);
        Refused(1, folder.File("empty"), "eval", "--hr", folder.File("empty"), "--degradation", "bicubic:x4", "--out", output);
        Refused(1, Path.Combine(hr, "man.png"), "eval", "--hr", hr, "--lq", lq, "--strategies", "bicubic", "--out", output);
        ImageIO.Save(torch.rand(1, 3, 12, 15), Path.Combine(lq, "man.png"));
        Refused(1, Path.Combine(lq, "man.png"), "eval", "--hr", hr, "--lq", lq, "--strategies", "bicubic", "--out", output);
        Refused(1, "--model", "eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "pixel", "--out", output);
        Refused(1, "unet", "eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "pixel", "--model", folder.File("empty"), "--out", output);
        Refused(1, "missing.onnx", "eval", "--hr", hr, "--degradation", "bicubic:x4", "--out", output, "--perceptual", folder.File("missing.onnx"));
    }

    [Theory]
    [InlineData("eval")]
    [InlineData("restore")]
    [InlineData("train-inn")]
    [InlineData("eval-inn")]
    [InlineData("degrade")]
    public void Help_is_printed_in_full(string command)
    {
        // Spectre reads [..] in descriptions as markup: "[1,3,H,W]" once made "eval --help" fail half-way.
        var (code, text) = CliRun.Run(command, "--help");
        Assert.True(code == 0, text);
        Assert.DoesNotContain("unexpected", text);
        Assert.Contains("--help", text);
    }
}
