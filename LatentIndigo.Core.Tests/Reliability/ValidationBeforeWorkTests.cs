using LatentIndigo.Tests.Batch;
using LatentIndigo.Tests.Cli;
using LatentIndigo.Tests.Invertible;
using Xunit;

namespace LatentIndigo.Tests.Reliability;

/// <summary>
/// Issue 26, validation before work: a command line that cannot run is refused with every problem listed at once (the
/// options' own checks and the restore or training settings they make), before anything is read or written.
/// </summary>
[Collection(TorchCpuSettingsCollection.Name)]
public class ValidationBeforeWorkTests
{
    private static string Flat(string text) => System.Text.RegularExpressions.Regex.Replace(text.Replace("│", " ", StringComparison.Ordinal), @"\s+", " ");

    [Fact]
    public void Batch_lists_every_problem_of_the_command_line_at_once_and_writes_nothing()
    {
        using var folder = TestData.NewTempFolder();
        string input = BatchTestImages.Write(folder.File("in"), 1);
        string output = folder.File("out");
        var (code, text) = CliRun.Run("batch", input, "-o", output, "--steps", "1000", "--strength", "2", "--concurrency", "0", "--blind", "--no-blind",
            "--strategy", "latent");
        string flat = Flat(text);
        Assert.NotEqual(0, code);
        Assert.Contains("--concurrency must be 1-64", flat);
        Assert.Contains("--blind or --no-blind", flat);
        Assert.Contains("needs a Stable Diffusion export", flat);
        Assert.Contains("--steps must be 1–999", flat);
        Assert.Contains("--strength must be in (0, 1]", flat);
        Assert.Contains("5 problems", flat);
        Assert.False(CliRun.HasStackTrace(text));
        Assert.False(Directory.Exists(output));

        // A degradation that does not parse is listed with the rest.
        (code, text) = CliRun.Run("batch", input, "-o", output, "--degradation", "bicubic:x3x", "--scale", "3");
        flat = Flat(text);
        Assert.NotEqual(0, code);
        Assert.Contains("x=3x", flat);
        Assert.Contains("--scale must be 1, 2, 4 or 8", flat);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Train_inn_lists_every_problem_of_the_command_line_at_once_and_writes_nothing()
    {
        using var folder = TestData.NewTempFolder();
        string images = BatchTestImages.Write(folder.File("in"), 1, width: 64, height: 64);
        string weights = folder.File("w.inn");
        var (code, text) = CliRun.Run("train-inn", "--images", images, "--degradation", "bicubic:x3", "--out", weights, "--steps", "0", "--batch", "0",
            "--threads", "0", "--crop", "4");
        string flat = Flat(text);
        Assert.NotEqual(0, code);
        Assert.Contains("--steps must be at least 1", flat);
        Assert.Contains("--threads must be at least 1", flat);
        Assert.Contains("bicubic:x3", flat);        // ×3 is no power of two
        Assert.Contains("BatchSize = 0", flat);
        Assert.Contains("CropSize = 4", flat);
        Assert.Contains("4 problems", flat);
        Assert.False(CliRun.HasStackTrace(text));
        Assert.Empty(Directory.GetFiles(folder.Path));
    }
}
