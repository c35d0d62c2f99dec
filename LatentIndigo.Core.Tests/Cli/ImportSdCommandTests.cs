using LatentIndigo.Cli;
using LatentIndigo.Diffusion;
using LatentIndigo.Imaging;
using LatentIndigo.Tests.Diffusion.Import;
using Spectre.Console.Testing;
using Xunit;

namespace LatentIndigo.Tests.Cli;

/// <summary><c>import-sd</c>, and <c>restore --model</c> given a diffusers folder, on tiny converted models.</summary>
public class ImportSdCommandTests
{
    private static string SmallLq => Path.Combine(TestData.Root, "lq", "chelsea_x4.png");

    private static TestConsole Console()
    {
        var console = new TestConsole();
        console.Profile.Width = 300;
        return console;
    }

    [Fact]
    public void ImportSd_WritesAnExportThatSdCheckAcceptsWithoutNotes_AndRestoreRuns()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny);
        using var folder = TestData.NewTempFolder();
        var export = Path.Combine(folder.Path, "export");

        var import = Console();
        int code = CliApp.Run(["import-sd", source.Path, "-o", export, "--precision", "fp16"], default, import);
        Assert.True(code == 0, import.Output);
        Assert.Contains("OK", import.Output);
        Assert.Contains("SD 1.x-shaped", import.Output);

        var check = Console();
        code = CliApp.Run(["sd-check", export, "--size", "32"], default, check);
        Assert.True(code == 0, check.Output);
        Assert.DoesNotContain("note:", check.Output); // no warning or override: the export is as the library wants it
        Assert.DoesNotContain("STAND-IN", check.Output);

        var restore = Console();
        var output = Path.Combine(folder.Path, "restored.png");
        code = CliApp.Run(["restore", SmallLq, "-o", output, "--model", export, "--steps", "4", "--strength", "0.5"], default, restore);
        Assert.True(code == 0, restore.Output);
        Assert.Equal((ImageFileFormat.Png, 448, 300), ImageIO.Identify(output));
    }

    [Fact]
    public void ImportSd_RefusesAnExistingOutput_AndABadSource_WithOneLine()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny);
        using var folder = TestData.NewTempFolder();
        var existing = Directory.CreateDirectory(Path.Combine(folder.Path, "existing")).FullName;

        var exists = Console();
        Assert.Equal(1, CliApp.Run(["import-sd", source.Path, "-o", existing], default, exists));
        Assert.Contains("--force", exists.Output);
        Assert.DoesNotContain("   at ", exists.Output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(existing));

        var missing = Console();
        Assert.Equal(1, CliApp.Run(["import-sd", Path.Combine(folder.Path, "nothing-here"), "-o", Path.Combine(folder.Path, "x")], default, missing));
        Assert.Contains("does not exist", missing.Output);

        var precision = Console();
        Assert.NotEqual(0, CliApp.Run(["import-sd", source.Path, "-o", Path.Combine(folder.Path, "y"), "--precision", "int8"], default, precision));
        Assert.Contains("fp32 or fp16", precision.Output);
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "y")));
    }

    [Fact]
    public void RestoreModel_AcceptsADiffusersFolder_ConvertingItOnceIntoTheCache()
    {
        using var source = TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd2Tiny, predictionType: "v_prediction");
        using var folder = TestData.NewTempFolder();
        var cache = Path.Combine(folder.Path, "cache");
        var before = Environment.GetEnvironmentVariable("LATENTINDIGO_IMPORT_CACHE");
        Environment.SetEnvironmentVariable("LATENTINDIGO_IMPORT_CACHE", cache);
        try
        {
            var first = Console();
            int code = CliApp.Run(["restore", SmallLq, "-o", Path.Combine(folder.Path, "a.png"), "--model", source.Path, "--steps", "4", "--strength", "0.5"], default, first);
            Assert.True(code == 0, first.Output);
            Assert.Contains("converting", first.Output);
            var entry = Assert.Single(Directory.GetDirectories(cache));
            Assert.Equal("v_prediction", SchedulerConfig.FromFile(Path.Combine(entry, "scheduler", "scheduler_config.json")).PredictionType.Value);
            var written = Directory.GetLastWriteTimeUtc(entry);

            var second = Console();
            code = CliApp.Run(["restore", SmallLq, "-o", Path.Combine(folder.Path, "b.png"), "--model", source.Path, "--steps", "4", "--strength", "0.5"], default, second);
            Assert.True(code == 0, second.Output);
            Assert.Contains("reusing", second.Output);
            Assert.Equal(entry, Assert.Single(Directory.GetDirectories(cache)));
            Assert.Equal(written, Directory.GetLastWriteTimeUtc(entry));
        }
        finally
        {
            Environment.SetEnvironmentVariable("LATENTINDIGO_IMPORT_CACHE", before);
        }
    }
}
