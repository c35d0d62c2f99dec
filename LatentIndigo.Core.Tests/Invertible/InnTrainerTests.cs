using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

public class InnTrainerTests
{
    private static string DataPath(string name) => Path.Combine(AppContext.BaseDirectory, "data", "cc0", name);

    /// <summary>Two real photos, shrunk ×4 by area averaging to keep the test fast.</summary>
    private static InnImageSet SmallPhotos()
    {
        using var scope = NewDisposeScope();
        var images = new[] { "chelsea.png", "coffee.png" }
            .Select(n => nn.functional.avg_pool2d(ImageIO.Load(DataPath(n)), 4))
            .ToList();
        return InnImageSet.FromTensors(images);
    }

    [Fact]
    public void Training_on_real_photos_raises_the_coarse_psnr_above_plain_subsampling()
    {
        using var scope = NewDisposeScope();
        using var photos = SmallPhotos();
        using var inn = new LiftingInn(new LiftingInnOptions { ResBlocks = 1, Width = 16 });
        var degradation = new AreaDegradation(4);
        var options = new InnTrainingOptions { Steps = 40, BatchSize = 4, CropSize = 32, LearningRate = 2e-3, WarmupSteps = 5, ValidateEvery = 0, ReportEvery = 5 };
        var trainer = new InnTrainer(inn, degradation, options);

        // Independent reference: the untrained (lazy-wavelet) INN's coarse band is x[::4, ::4]; its PSNR vs area-mean.
        var s = TensorIndex.Slice(0, null, 4);
        double baseline = photos.Images.Select(img =>
        {
            var x = img.narrow(1, 0, img.shape[1] / 4 * 4).narrow(2, 0, img.shape[2] / 4 * 4).unsqueeze(0);
            return InnEvaluation.Psnr(x[TensorIndex.Colon, TensorIndex.Colon, s, s], nn.functional.avg_pool2d(x, 4));
        }).Average();

        var reports = new List<InnTrainingProgress>();
        var result = trainer.Train(photos, photos, new SynchronousProgress<InnTrainingProgress>(reports.Add));

        Assert.Equal(40, result.Steps);
        Assert.NotNull(result.ValidationPsnr);
        Assert.True(result.ValidationPsnr > baseline + 1.5, $"PSNR {result.ValidationPsnr:F2} dB vs subsampling {baseline:F2} dB");
        Assert.True(result.LossHistory[^1].Loss < result.LossHistory[0].Loss, "loss must go down");
        Assert.Equal(new[] { 5, 10, 15, 20, 25, 30, 35, 40 }, reports.Select(r => r.Step));
        Assert.NotNull(reports[^1].ValidationPsnr);
    }

    [Fact]
    public void Checkpoints_resume_where_training_stopped()
    {
        using var scope = NewDisposeScope();
        using var photos = SmallPhotos();
        var checkpoint = InnTestHelpers.TempPath(".inn");
        var degradation = new AreaDegradation(4);
        var tiny = new LiftingInnOptions { ResBlocks = 1, Width = 8 };
        var options = new InnTrainingOptions { Steps = 9, BatchSize = 2, CropSize = 16, CheckpointPath = checkpoint, CheckpointEvery = 3, ReportEvery = 1 };
        using (var inn = new LiftingInn(tiny))
        using (var stop = new CancellationTokenSource())
        {
            var progress = new SynchronousProgress<InnTrainingProgress>(p => { if (p.Step == 6) stop.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => new InnTrainer(inn, degradation, options).Train(photos, null, progress, stop.Token));
        }
        Assert.False(File.Exists(checkpoint + ".adam")); // one file: weights, optimiser and random state together
        var saved = InnCheckpoint.Load(checkpoint);
        Assert.Equal(6, saved.Step);
        using (var network = LiftingInn.Load(new MemoryStream(saved.Network)))
        {
            Assert.Equal("6", network.Metadata["training.steps"]);
            Assert.Equal("area:x4", network.Metadata["degradation"]);
        }
        using var resumed = new LiftingInn(tiny);
        var steps = new List<int>();
        new InnTrainer(resumed, degradation, options with { Resume = true }).Train(photos, progress: new SynchronousProgress<InnTrainingProgress>(p => steps.Add(p.Step)));
        Assert.Equal(new[] { 7, 8, 9 }, steps);
        Assert.Equal(9, InnCheckpoint.Load(checkpoint).Step);
        File.Delete(checkpoint);
    }

    [Fact]
    public void Cancellation_stops_training_and_mismatched_scales_are_rejected()
    {
        using var photos = SmallPhotos();
        using var inn = new LiftingInn(new LiftingInnOptions { ResBlocks = 1, Width = 8 });
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var trainer = new InnTrainer(inn, new AreaDegradation(4), new InnTrainingOptions { Steps = 5, CropSize = 16, BatchSize = 1 });
        Assert.Throws<OperationCanceledException>(() => trainer.Train(photos, cancellationToken: cts.Token));
        var ex = Assert.Throws<InnInputException>(() => new InnTrainer(inn, new AreaDegradation(2), new InnTrainingOptions()));
        Assert.Contains("scales by 2", ex.Message);
    }

    [Fact]
    public void Learning_rate_schedule_warms_up_then_decays_to_the_minimum()
    {
        var o = new InnTrainingOptions { Steps = 110, WarmupSteps = 10, LearningRate = 1e-3, MinLearningRate = 1e-5 };
        Assert.Equal(1e-4, o.LearningRateAt(0), 12);
        Assert.Equal(1e-3, o.LearningRateAt(10), 12);
        Assert.Equal(1e-5 + 0.5 * (1e-3 - 1e-5), o.LearningRateAt(60), 12); // half way: cos(π/2) = 0
        Assert.Equal(1e-5, o.LearningRateAt(110), 12);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests need the reports in order before Train returns.</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
