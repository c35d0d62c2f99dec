using LatentIndigo.Cli;
using LatentIndigo.Degradations;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using LatentIndigo.Tests.Invertible;
using Spectre.Console.Testing;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Reliability;

/// <summary>
/// Issue 26, items 2 and 8: a resumed training ends with the bytes of one uninterrupted run, or is refused before a
/// step runs, naming what differs; the checkpoint is one atomically replaced file and leaves no temporary file.
/// </summary>
// Non-parallel: training's gradient sums depend on libtorch's process-wide thread count, which train-inn --threads sets.
[Collection(TorchCpuSettingsCollection.Name)]
public class TrainingResumeReliabilityTests
{
    private static readonly LiftingInnOptions Tiny = new() { ResBlocks = 1, Width = 8 };

    private static InnImageSet Photos(int count = 2)
    {
        using var scope = NewDisposeScope();
        return InnImageSet.FromTensors(new[] { "chelsea.png", "coffee.png" }.Take(count)
            .Select(n => nn.functional.avg_pool2d(ImageIO.Load(TestData.Cc0(n)), 4)).ToList());
    }

    private static InnTrainingOptions Options(string checkpoint, bool resume = false) => new()
    {
        Steps = 6, BatchSize = 2, CropSize = 16, CheckpointPath = checkpoint, CheckpointEvery = 3, ReportEvery = 1, ValidateEvery = 3, Resume = resume,
    };

    /// <summary>A new network whose random weights come from a fixed seed (a fresh run and the interrupted one start alike).</summary>
    private static LiftingInn SeededInn() => new(Tiny, seed: 7);

    private static byte[] Bytes(LiftingInn inn)
    {
        using var stream = new MemoryStream();
        inn.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void A_training_stopped_after_a_checkpoint_and_resumed_ends_with_the_bytes_of_an_uninterrupted_run()
    {
        using var folder = TestData.NewTempFolder();
        using var photos = Photos();
        var degradation = new AreaDegradation(4);
        byte[] fresh;
        using (var inn = SeededInn())
        {
            new InnTrainer(inn, degradation, Options(folder.File("fresh.ckpt"))).Train(photos, photos);
            fresh = Bytes(inn);
        }

        string checkpoint = folder.File("run.ckpt");
        // An interrupted checkpoint write of an earlier crash: removed at the start.
        string orphan = Path.Combine(folder.Path, ".run.ckpt.0123456789abcdef0123456789abcdef.tmp");
        File.WriteAllText(orphan, "half a checkpoint");
        using (var inn = SeededInn())
        using (var stop = new CancellationTokenSource())
        {
            var progress = new LatentIndigo.Tests.Pipeline.SyncProgress<InnTrainingProgress>(p => { if (p.Step == 3) stop.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => new InnTrainer(inn, degradation, Options(checkpoint)).Train(photos, photos, progress, stop.Token));
        }
        Assert.False(File.Exists(orphan));
        Assert.Equal(["fresh.ckpt", Path.GetFileName(checkpoint)], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(3, InnCheckpoint.Load(checkpoint).Step);

        using var resumed = new LiftingInn(Tiny); // new weights: the checkpoint must bring everything back
        var steps = new List<int>();
        new InnTrainer(resumed, degradation, Options(checkpoint, resume: true))
            .Train(photos, photos, new LatentIndigo.Tests.Pipeline.SyncProgress<InnTrainingProgress>(p => steps.Add(p.Step)));
        Assert.Equal([4, 5, 6], steps);
        Assert.Equal(fresh, Bytes(resumed));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.adam"));
    }

    [Fact]
    public void A_resume_with_another_degradation_other_settings_or_other_images_is_refused_before_a_step_runs()
    {
        using var folder = TestData.NewTempFolder();
        using var photos = Photos();
        string checkpoint = folder.File("run.ckpt");
        using (var inn = new LiftingInn(Tiny))
        {
            new InnTrainer(inn, new AreaDegradation(4), Options(checkpoint)).Train(photos);
        }
        byte[] before = File.ReadAllBytes(checkpoint);
        void Refused(IDegradationModel degradation, InnTrainingOptions options, InnImageSet images, string difference)
        {
            using var inn = new LiftingInn(Tiny);
            var steps = 0;
            var refused = Assert.Throws<InnCheckpointMismatchException>(() =>
                new InnTrainer(inn, degradation, options).Train(images, progress: new LatentIndigo.Tests.Pipeline.SyncProgress<InnTrainingProgress>(_ => steps++)));
            Assert.Contains(refused.Differences, d => d.StartsWith(difference, StringComparison.Ordinal));
            Assert.Contains("without --resume", refused.Message);
            Assert.Equal(0, steps);
            Assert.Equal(before, File.ReadAllBytes(checkpoint));
        }
        Refused(DegradationSpec.Parse("bicubic:x4"), Options(checkpoint, resume: true), photos, "degradation: area:x4 then, bicubic:x4 now");
        Refused(new AreaDegradation(4), Options(checkpoint, resume: true) with { Steps = 9 }, photos, "options.Steps: 6 then, 9 now");
        Refused(new AreaDegradation(4), Options(checkpoint, resume: true) with { Seed = 2 }, photos, "options.Seed: 1 then, 2 now");
        using var fewer = Photos(1);
        Refused(new AreaDegradation(4), Options(checkpoint, resume: true), fewer, "training.images: 2 images");
    }

    [Fact]
    public void A_damaged_checkpoint_is_refused_by_name_not_loaded()
    {
        using var folder = TestData.NewTempFolder();
        using var photos = Photos();
        string checkpoint = folder.File("run.ckpt");
        using (var inn = new LiftingInn(Tiny))
        {
            new InnTrainer(inn, new AreaDegradation(4), Options(checkpoint)).Train(photos);
        }
        byte[] bytes = File.ReadAllBytes(checkpoint);
        bytes[^10] ^= 0xFF; // the generator state, the last section
        File.WriteAllBytes(checkpoint, bytes);
        using var resumed = new LiftingInn(Tiny);
        var damaged = Assert.Throws<InnWeightsException>(() => new InnTrainer(resumed, new AreaDegradation(4), Options(checkpoint, resume: true)).Train(photos));
        Assert.Contains("damaged", damaged.Message);
        File.WriteAllBytes(checkpoint, bytes[..100]);
        Assert.Contains("truncated", Assert.Throws<InnWeightsException>(() => new InnTrainer(resumed, new AreaDegradation(4), Options(checkpoint, resume: true)).Train(photos)).Message);
    }

    [Fact]
    public void Cli_train_inn_resume_with_another_degradation_is_refused_and_the_weights_are_left_as_they_were()
    {
        using var folder = TestData.NewTempFolder();
        string images = Directory.CreateDirectory(folder.File("images")).FullName;
        foreach (var name in new[] { "chelsea.png", "coffee.png" })
        {
            using var scope = NewDisposeScope();
            ImageIO.Save(nn.functional.avg_pool2d(ImageIO.Load(TestData.Cc0(name)), 4), Path.Combine(images, name));
        }
        string weights = folder.File("run.inn");
        string[] job = ["train-inn", "--images", images, "--steps", "4", "--batch", "2", "--crop", "32", "--res-blocks", "1", "--checkpoint-every", "2",
            "--out", weights, "--threads", "1"];
        var (code, text) = Run([.. job, "--degradation", "bicubic:x4"]);
        Assert.True(code == 0, text);
        byte[] trained = File.ReadAllBytes(weights);

        (code, text) = Run([.. job, "--degradation", "area:x4", "--resume"]);
        Assert.Equal(1, code);
        string flat = System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");
        Assert.Contains("degradation: bicubic:x4 then, area:x4 now", flat);
        Assert.Contains("without --resume", flat);
        Assert.Equal(trained, File.ReadAllBytes(weights));

        File.Copy(Path.Combine(images, "chelsea.png"), Path.Combine(images, "chelsea2.png"));
        (code, text) = Run([.. job, "--degradation", "bicubic:x4", "--resume"]);
        Assert.Equal(1, code);
        Assert.Contains("training.images: 2 images", System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " "));
        File.Delete(Path.Combine(images, "chelsea2.png"));

        // The same settings resume (here: at the end, so nothing runs) and write the same bytes.
        (code, text) = Run([.. job, "--degradation", "bicubic:x4", "--resume"]);
        Assert.True(code == 0, text);
        Assert.Equal(trained, File.ReadAllBytes(weights));
    }

    private static (int Code, string Output) Run(string[] args)
    {
        var console = new TestConsole();
        console.Profile.Width = 400;
        int code = CliApp.Run(args, default, console);
        return (code, console.Output);
    }
}
