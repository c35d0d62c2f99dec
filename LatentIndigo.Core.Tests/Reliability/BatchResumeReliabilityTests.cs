using System.Security.Cryptography;
using LatentIndigo.Batch;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using LatentIndigo.Tests.Batch;
using Xunit;

namespace LatentIndigo.Tests.Reliability;

/// <summary>
/// Issue 26, batch side: a resumed or repeated job ends with the bytes of one fresh run on the inputs as they are now,
/// or it is refused before any work with the reason. Each test failed on the code before the fix (commit b82b0c1).
/// </summary>
public class BatchResumeReliabilityTests
{
    private static readonly RestoreOptions Options = RestoreOptions.Default with { Strategy = GuidanceStrategy.InnOnly, Steps = 10 };

    private static Dictionary<string, string> Hashes(string folder) => Directory.GetFiles(folder, "*.png")
        .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))), StringComparer.Ordinal);

    /// <summary>A fresh, uninterrupted job over <paramref name="inputs"/> into a new folder: the bytes every resume must end with.</summary>
    private static async Task<Dictionary<string, string>> FreshRun(string inputs, string output)
    {
        using var batch = RestoreBatch.Create(BatchInputs.FromFolder(inputs), output, Options);
        await batch.RunAsync(new NearestRestorer());
        return Hashes(output);
    }

    [Fact]
    public async Task A_resume_after_an_input_was_replaced_under_the_same_name_restores_it_again()
    {
        using var folder = TestData.NewTempFolder();
        string inputs = BatchTestImages.Write(folder.File("in"), 3);
        string output = folder.File("out");
        using (var batch = RestoreBatch.Create(BatchInputs.FromFolder(inputs), output, Options))
        {
            await batch.RunAsync(new NearestRestorer());
        }
        // Another picture under the same name (same size in pixels, other content).
        BatchTestImages.Write(folder.File("other"), 2, seed: 9);
        File.Copy(folder.File("other/img1.png"), Path.Combine(inputs, "img1.png"), overwrite: true);

        var restorer = new NearestRestorer();
        using (var batch = RestoreBatch.Resume(BatchInputs.FromFolder(inputs), output, Options))
        {
            Assert.Contains(batch.Notes, n => n.Contains("img1.png", StringComparison.Ordinal) && n.Contains("changed", StringComparison.Ordinal));
            var report = await batch.RunAsync(restorer);
            Assert.Equal((1, 2), (report.RestoredThisRun, report.DoneBefore));
        }
        Assert.Equal(1, restorer.Calls);
        Assert.Equal(await FreshRun(inputs, folder.File("fresh")), Hashes(output));
    }

    [Fact]
    public async Task An_output_folder_that_holds_the_inputs_is_refused_before_anything_is_written()
    {
        using var folder = TestData.NewTempFolder();
        string inputs = Directory.CreateDirectory(folder.File("photos")).FullName;
        string pngs = BatchTestImages.Write(folder.File("png"), 2);
        foreach (var png in Directory.GetFiles(pngs))
        {
            using var image = ImageIO.Load(png);
            ImageIO.Save(image, Path.Combine(inputs, Path.GetFileNameWithoutExtension(png) + ".jpg")); // img0.jpg → img0.png beside it
        }
        var images = BatchInputs.FromFolder(inputs);
        var refused = Assert.Throws<BatchInputException>(() => RestoreBatch.Create(images, inputs, Options));
        Assert.Contains("holds 2 of the inputs", refused.Message);
        Assert.Contains("outside the input folder", refused.Message);
        Assert.Equal(["img0.jpg", "img1.jpg"], Directory.GetFiles(inputs).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // A ground truth inside the output folder is refused as well.
        string output = Directory.CreateDirectory(folder.File("out")).FullName;
        File.Copy(Path.Combine(pngs, "img0.png"), Path.Combine(output, "truth.png"));
        var withTruth = new List<BatchImage> { new(images[0].InputPath, Path.Combine(output, "truth.png")) };
        Assert.Throws<BatchInputException>(() => RestoreBatch.Create(withTruth, output, Options));
        Assert.False(RestoreBatch.Exists(output));
        await Task.CompletedTask;
    }

    [Theory]
    [InlineData(218)]
    [InlineData(240)]
    [InlineData(251)]
    [InlineData(255)]
    public async Task Names_up_to_255_bytes_are_restored(int nameBytes)
    {
        using var folder = TestData.NewTempFolder();
        string inputs = BatchTestImages.Write(folder.File("in"), 1);
        // Two-byte characters too, so that a cut inside a character would show.
        string stem = "é" + new string('n', nameBytes - 4 - 2);
        File.Move(Path.Combine(inputs, "img0.png"), Path.Combine(inputs, stem + ".png"));
        string output = folder.File("out");
        using var batch = RestoreBatch.Create(BatchInputs.FromFolder(inputs), output, Options);
        var report = await batch.RunAsync(new NearestRestorer());
        var image = Assert.Single(report.Images);
        Assert.True(image.State == BatchImageState.Done, image.Error);
        Assert.True(File.Exists(Path.Combine(output, stem + ".png")));
        Assert.Empty(Directory.GetFiles(output, "*.tmp"));
    }

    [Fact]
    public void Steps_beyond_the_schedule_are_refused_by_Validate_with_every_other_problem_and_nothing_is_written()
    {
        var options = RestoreOptions.Default with { Steps = 1000, Eta = 2 };
        var refused = Assert.Throws<InvalidRestoreOptionsException>(() => options.Validate());
        Assert.Contains("Steps must be 1–999", refused.Message);
        Assert.Contains("Eta", refused.Message);
        RestoreOptions.Default.Validate(); // 50 steps
        (RestoreOptions.Default with { Steps = 999 }).Validate(); // the most a 1000-timestep schedule with steps_offset 1 takes

        using var folder = TestData.NewTempFolder();
        var images = BatchInputs.FromFolder(BatchTestImages.Write(folder.File("in"), 1));
        Assert.Throws<InvalidRestoreOptionsException>(() => RestoreBatch.Create(images, folder.File("out"), Options with { Steps = 1000 }));
        Assert.False(Directory.Exists(folder.File("out")));
    }

    [Fact]
    public async Task A_newline_or_a_bar_in_a_file_name_keeps_the_report_table_one_row_per_image()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Windows file names cannot hold a newline
        }
        using var folder = TestData.NewTempFolder();
        string inputs = BatchTestImages.Write(folder.File("in"), 3);
        File.Move(Path.Combine(inputs, "img0.png"), Path.Combine(inputs, "two\nlines.png"));
        File.Move(Path.Combine(inputs, "img1.png"), Path.Combine(inputs, "a|b\tc.png"));
        using var batch = RestoreBatch.Create(BatchInputs.FromFolder(inputs), folder.File("out"), Options);
        var report = await batch.RunAsync(new NearestRestorer());
        Assert.Equal(3, report.Done);
        var markdown = report.ToMarkdown();
        var rows = markdown[markdown.IndexOf("## Per image", StringComparison.Ordinal)..].Split('\n').Where(l => l.StartsWith('|')).Skip(2).ToList();
        Assert.Equal(3, rows.Count);
        // Every row has the same number of unescaped bars (cells) as the header.
        int Cells(string row) => System.Text.RegularExpressions.Regex.Matches(row, @"(?<!\\)\|").Count;
        string header = markdown.Split('\n').First(l => l.StartsWith("| image |", StringComparison.Ordinal));
        Assert.All(rows, r => Assert.Equal(Cells(header), Cells(r)));
        Assert.Contains(rows, r => r.StartsWith("| two\\nlines.png | Done |", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.StartsWith("| a\\|b\\tc.png | Done |", StringComparison.Ordinal));
    }

    [Fact]
    public void A_zero_byte_journal_is_named_as_such_not_as_a_settings_mismatch()
    {
        using var folder = TestData.NewTempFolder();
        var images = BatchInputs.FromFolder(BatchTestImages.Write(folder.File("in"), 1));
        string output = Directory.CreateDirectory(folder.File("out")).FullName;
        File.WriteAllBytes(Path.Combine(output, RestoreBatch.JournalFileName), []);
        var refused = Assert.Throws<BatchJournalException>(() => RestoreBatch.Resume(images, output, Options));
        Assert.Contains("holds no job (0 bytes)", refused.Message);
        Assert.Contains("delete it and start the job again without --resume", refused.Message);
    }
}
