using LatentIndigo.Batch;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using LatentIndigo.Tests.Batch;
using LatentIndigo.Tests.Diffusion.StandIns;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Pipeline;

/// <summary>
/// API surprises a new user met (issue 24, item 4): each case failed on the code before the fix. INN-only restores of
/// tiny images, so the whole class runs in seconds.
/// </summary>
public sealed class FirstHourApiTests
{
    private static readonly RestoreOptions InnOnly = RestoreOptions.Default with { Strategy = GuidanceStrategy.InnOnly, ScaleFactor = 4 };

    /// <summary>Records progress reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class Recorder : IProgress<RestoreProgress>
    {
        public List<RestoreStage> Stages { get; } = [];

        public void Report(RestoreProgress value) => Stages.Add(value.Stage);
    }

    private static string WriteInput(TestData.TempFolder folder)
    {
        string path = folder.File("in.png");
        using var image = torch.rand(1, 3, 12, 16, generator: new torch.Generator(3));
        ImageIO.Save(image, path);
        return path;
    }

    [Fact]
    public void RestoreFile_refuses_an_existing_output_before_any_work_and_leaves_it_untouched()
    {
        using var folder = TestData.NewTempFolder();
        string input = WriteInput(folder);
        string output = folder.File("out.png");
        File.WriteAllText(output, "precious");
        using var pipeline = RestorationPipeline.Load(modelFolder: null);
        var progress = new Recorder();

        var error = Assert.Throws<ImageSaveException>(() => pipeline.RestoreFile(input, output, InnOnly, progress));

        Assert.Contains("exists", error.Message, StringComparison.Ordinal);
        Assert.Contains("Overwrite = true", error.Message, StringComparison.Ordinal);
        Assert.Empty(progress.Stages); // refused before the restore started
        Assert.Equal("precious", File.ReadAllText(output));
    }

    [Fact]
    public void RestoreFile_replaces_an_existing_output_when_asked()
    {
        using var folder = TestData.NewTempFolder();
        string input = WriteInput(folder);
        string output = folder.File("out.png");
        File.WriteAllText(output, "old");
        using var pipeline = RestorationPipeline.Load(modelFolder: null);

        using var result = pipeline.RestoreFile(input, output, InnOnly, saveOptions: new ImageSaveOptions { Overwrite = true });

        Assert.Equal((ImageFileFormat.Png, 64, 48), ImageIO.Identify(output));
    }

    [Fact]
    public void RestoreFile_refuses_a_missing_output_folder_before_any_work()
    {
        using var folder = TestData.NewTempFolder();
        string input = WriteInput(folder);
        using var pipeline = RestorationPipeline.Load(modelFolder: null);
        var progress = new Recorder();

        var error = Assert.Throws<ImageSaveException>(() => pipeline.RestoreFile(input, folder.File("missing/out.png"), InnOnly, progress));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        Assert.Empty(progress.Stages);
    }

    [Fact]
    public void InnOnly_without_a_known_degradation_says_it_returns_the_estimate()
    {
        var logger = new ListLogger();
        using var pipeline = RestorationPipeline.Load(modelFolder: null, logger: logger);
        using var input = torch.rand(1, 3, 8, 8, generator: new torch.Generator(1));

        using (pipeline.Restore(input, InnOnly))
        {
        }
        Assert.Contains(logger.Entries, e => e.Message.Contains("returned unchanged", StringComparison.Ordinal));

        int before = logger.Entries.Count(e => e.Message.Contains("returned unchanged", StringComparison.Ordinal));
        using (pipeline.Restore(input, InnOnly with { KnownDegradation = LatentIndigo.Degradations.DegradationSpec.Parse("bicubic:x4") }))
        {
        }
        Assert.Equal(before, logger.Entries.Count(e => e.Message.Contains("returned unchanged", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_sampler_factory_with_InnOnly_is_refused_like_a_guidance()
    {
        var options = InnOnly with { SamplerFactory = _ => throw new InvalidOperationException("never called") };

        var error = Assert.Throws<InvalidRestoreOptionsException>(() => options.Validate());

        Assert.Contains("SamplerFactory", error.Message, StringComparison.Ordinal);
        (InnOnly with { Strategy = GuidanceStrategy.PixelInn, SamplerFactory = options.SamplerFactory }).Validate(); // allowed there
    }

    [Fact]
    public void A_float64_input_in_0_1_is_not_told_to_divide_by_255()
    {
        using var pipeline = RestorationPipeline.Load(modelFolder: null);
        using var doubles = torch.rand(1, 3, 8, 8, dtype: torch.ScalarType.Float64);
        using var bytes = torch.zeros(1, 3, 8, 8, dtype: torch.ScalarType.Byte);

        var forDoubles = Assert.Throws<InvalidRestoreInputException>(() => pipeline.Restore(doubles, InnOnly));
        var forBytes = Assert.Throws<InvalidRestoreInputException>(() => pipeline.Restore(bytes, InnOnly));

        Assert.DoesNotContain("/ 255", forDoubles.Message, StringComparison.Ordinal);
        Assert.Contains("Float32", forDoubles.Message, StringComparison.Ordinal);
        Assert.Contains("/ 255", forBytes.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_with_no_models_named_does_not_throw_NullReferenceException()
    {
        using var folder = TestData.NewTempFolder();
        var images = BatchInputs.FromFolder(BatchTestImages.Write(folder.File("in"), 1));
        // As docs/usage.md's INN-only batch snippet did: Models = null (a string? passed where string is expected).
        using var batch = RestoreBatch.Create(images, folder.File("out"), InnOnly, new RestoreBatchOptions { Models = null! });

        var report = await batch.RunAsync(new NearestRestorer());

        Assert.Equal(0, report.Failed);
    }
}
