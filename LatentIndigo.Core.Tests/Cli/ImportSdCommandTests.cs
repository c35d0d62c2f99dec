using LatentIndigo.Cli;
using LatentIndigo.Diffusion;
using LatentIndigo.Imaging;
using LatentIndigo.Tests.Diffusion.Import;
using LatentIndigo.Weights;
using LatentIndigo.Tests.Batch;
using Spectre.Console.Testing;
using Xunit;

namespace LatentIndigo.Tests.Cli;

/// <summary><c>import-sd</c>, and <c>restore</c>/<c>batch</c>/<c>eval --model</c> given a diffusers folder or a single file, on tiny converted models.</summary>
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

    // A tiny runnable single file in the LDM layout (SD's 4-level VAE, CLIP's full vocabulary).
    private static string WriteSingleFile(string folder, string extension, bool sd2 = false)
    {
        var model = sd2 ? TinyLdm.Sd2Runnable : TinyLdm.Sd1Runnable;
        var path = Path.Combine(folder, "tiny-ldm" + extension);
        LdmCheckpointBuilder.Write(path, LdmCheckpointBuilder.Enumerate(model), WeightDType.Float16);
        return path;
    }

    private static T WithCache<T>(string cache, Func<T> run)
    {
        var before = Environment.GetEnvironmentVariable("LATENTINDIGO_IMPORT_CACHE");
        Environment.SetEnvironmentVariable("LATENTINDIGO_IMPORT_CACHE", cache);
        try
        {
            return run();
        }
        finally
        {
            Environment.SetEnvironmentVariable("LATENTINDIGO_IMPORT_CACHE", before);
        }
    }

    [Theory]
    [InlineData("diffusers", "fp32")]
    [InlineData("diffusers", "fp16")]
    [InlineData(".safetensors", "fp32")]
    [InlineData(".safetensors", "fp16")]
    [InlineData(".ckpt", "fp32")]
    [InlineData(".ckpt", "fp16")]
    public void SdCheck_IsCleanOnEveryOutputFormat(string sourceKind, string precision)
    {
        using var folder = TestData.NewTempFolder();
        using var diffusers = sourceKind == "diffusers" ? TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd2Tiny, predictionType: "v_prediction") : null;
        string source = diffusers?.Path ?? WriteSingleFile(folder.Path, sourceKind);
        var export = Path.Combine(folder.Path, "export");
        var (code, text) = CliRun.Run("import-sd", source, "-o", export, "--precision", precision);
        Assert.True(code == 0, text);
        Assert.Equal(precision == "fp16" ? 10 : 1, SampleElementType(Path.Combine(export, "unet", "model.onnx"))); // ONNX FLOAT16 = 10, FLOAT = 1
        (code, text) = CliRun.Run("sd-check", export, "--size", "32");
        Assert.True(code == 0, text);
        Assert.DoesNotContain("note:", text);
        Assert.DoesNotContain("warning", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("STAND-IN", text);
    }

    // The ONNX element type of the UNet's "sample" input.
    private static int SampleElementType(string model) =>
        global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(model)).Graph.Input.Single(i => i.Name == "sample").Type.TensorType.ElemType;

    [Theory]
    [InlineData(".safetensors")]
    [InlineData(".ckpt")]
    public void RestoreModel_AcceptsASingleFile_ConvertingItOnceIntoTheCache(string extension)
    {
        using var folder = TestData.NewTempFolder();
        var file = WriteSingleFile(folder.Path, extension);
        var cache = Path.Combine(folder.Path, "cache");
        WithCache(cache, () =>
        {
            var (code, text) = CliRun.Run("restore", SmallLq, "-o", Path.Combine(folder.Path, "a.png"), "--model", file, "--steps", "4", "--strength", "0.5");
            Assert.True(code == 0, text);
            Assert.Contains("converting", text);
            Assert.Equal((ImageFileFormat.Png, 448, 300), ImageIO.Identify(Path.Combine(folder.Path, "a.png")));
            var entry = Assert.Single(Directory.GetDirectories(cache));
            Assert.StartsWith("tiny-ldm-", Path.GetFileName(entry));
            Assert.Equal("epsilon", SchedulerConfig.FromFile(Path.Combine(entry, "scheduler", "scheduler_config.json")).PredictionType.Value);
            (code, text) = CliRun.Run("sd-check", entry, "--size", "32");
            Assert.True(code == 0, text);
            Assert.DoesNotContain("note:", text);
            return 0;
        });
    }

    [Fact]
    public void BatchAndEvalModel_AcceptASingleFile()
    {
        using var folder = TestData.NewTempFolder();
        var file = WriteSingleFile(folder.Path, ".safetensors");
        var cache = Path.Combine(folder.Path, "cache");
        string inputs = BatchTestImages.Write(Path.Combine(folder.Path, "in"), 1, width: 16, height: 16);
        WithCache(cache, () =>
        {
            var (code, text) = CliRun.Run("batch", inputs, "-o", Path.Combine(folder.Path, "batch-out"), "--model", file, "--steps", "2", "--strength", "0.5");
            Assert.True(code == 0, text);
            Assert.Contains("converting", text);
            Assert.Contains("1 restored, 0 failed", File.ReadAllText(Path.Combine(folder.Path, "batch-out", "batch-report.md")));

            string hr = BatchTestImages.Write(Path.Combine(folder.Path, "hr"), 1, width: 64, height: 64);
            (code, text) = CliRun.Run("eval", "--hr", hr, "--degradation", "bicubic:x4", "--strategies", "pixel", "--model", file, "--steps", "2",
                "--out", Path.Combine(folder.Path, "eval-out"));
            Assert.True(code == 0, text);
            Assert.Contains("reusing", text); // batch converted it; eval finds the same cache entry
            Assert.Single(Directory.GetDirectories(cache));
            return 0;
        });
    }

    [Fact]
    public void RestoreModel_Sd2SingleFileWithoutAPredictionType_SaysHowToImportIt()
    {
        using var folder = TestData.NewTempFolder();
        var file = WriteSingleFile(folder.Path, ".safetensors", sd2: true);
        var cache = Path.Combine(folder.Path, "cache");
        WithCache(cache, () =>
        {
            var output = Path.Combine(folder.Path, "a.png");
            var (code, text) = CliRun.Run("restore", SmallLq, "-o", output, "--model", file, "--steps", "4");
            Assert.Equal(1, code);
            Assert.Contains("768-pixel SD 2.x models", text);
            Assert.Contains("latent-indigo import-sd", text);
            Assert.Contains("--prediction-type", text);
            Assert.False(CliRun.HasStackTrace(text));
            Assert.False(File.Exists(output));
            Assert.Empty(Directory.Exists(cache) ? Directory.GetFileSystemEntries(cache) : []);
            return 0;
        });
    }

    // Here, not in a library test class: the tests that set LATENTINDIGO_IMPORT_CACHE must not run in parallel.
    [Theory]
    [InlineData("diffusers")]
    [InlineData(".safetensors")]
    [InlineData(".ckpt")]
    public void RestorationPipelineLoad_AcceptsEverySourceKind(string sourceKind)
    {
        using var folder = TestData.NewTempFolder();
        using var diffusers = sourceKind == "diffusers" ? TinyDiffusersFolder.Create(TinyDiffusersFolder.Sd1Tiny) : null;
        string source = diffusers?.Path ?? WriteSingleFile(folder.Path, sourceKind);
        var cache = Path.Combine(folder.Path, "cache");
        WithCache(cache, () =>
        {
            using (var pipeline = LatentIndigo.Pipeline.RestorationPipeline.Load(source))
            {
                Assert.NotNull(pipeline.Models);
                Assert.Equal(4, pipeline.Models.LatentChannels);
            }
            var entry = Assert.Single(Directory.GetDirectories(cache));
            Assert.True(File.Exists(Path.Combine(entry, "unet", "model.onnx")));
            return 0;
        });
    }
}
