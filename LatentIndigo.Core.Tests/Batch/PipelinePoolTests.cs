using LatentIndigo.Batch;
using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;
using Xunit;

namespace LatentIndigo.Tests.Batch;

/// <summary>The real pipeline behind a batch: concurrent restores on one shared stand-in model set give the bytes of one-at-a-time restores.</summary>
public class PipelinePoolTests
{
    // Blind refinement on (the default for an unknown degradation): the path whose bytes depend most on shared state.
    private static readonly RestoreOptions Fast = RestoreOptions.Default with { Strategy = GuidanceStrategy.PixelInn, Steps = 6, Strength = 0.5 };

    /// <summary>One pipeline (one model set) serving <paramref name="concurrency"/> restores at once.</summary>
    internal static PipelinePool Pool(string modelFolder, int concurrency) =>
        new([new RestorationPipeline(StableDiffusionModels.Load(modelFolder), BundledInn.Load(BundledInnWeights.BicubicX4), maxConcurrentRestores: concurrency)]);

    [Fact]
    public async Task Two_concurrent_restores_on_one_model_set_write_the_bytes_of_one_at_a_time()
    {
        using var models = StandInModelBuilder.CreateTemporary(new StandInOptions { UnetBehavior = StandInUnetBehavior.GaussianDenoiser });
        using var folder = TestData.NewTempFolder();
        var images = BatchInputs.FromFolder(BatchTestImages.Write(folder.File("in"), 4, width: 16, height: 16));
        var hashes = new List<string?[]>();
        foreach (int concurrency in new[] { 1, 2 })
        {
            using var pool = Pool(models.Path, concurrency);
            using var batch = RestoreBatch.Create(images, folder.File($"out{concurrency}"), Fast);
            var report = await batch.RunAsync(pool);
            Assert.True(report.Done == 4, string.Join("; ", report.Images.Select(i => i.Error)));
            Assert.All(report.Images, i => Assert.True(i.UnetTime > TimeSpan.Zero)); // the diffusion path ran
            hashes.Add(report.Images.Select(i => i.OutputSha256).ToArray());
        }
        Assert.Equal(hashes[0], hashes[1]);
        Assert.Equal(4, hashes[0].Distinct().Count());
    }

    [Fact]
    public async Task Pool_runs_as_many_restores_at_once_as_its_pipeline_allows_and_no_more()
    {
        using var models = StandInModelBuilder.CreateTemporary(new StandInOptions { UnetBehavior = StandInUnetBehavior.GaussianDenoiser });
        using var pool = Pool(models.Path, 2);
        using var input = TorchSharp.torch.rand(1, 3, 16, 16);
        int running = 0, most = 0;
        var progress = new LatentIndigo.Tests.Pipeline.SyncProgress<RestoreProgress>(p =>
        {
            if (p.Stage == RestoreStage.Sampling && p.Step == 1)
            {
                int now = Interlocked.Increment(ref running);
                InterlockedMax(ref most, now);
            }
            if (p.Stage == RestoreStage.Completed)
            {
                Interlocked.Decrement(ref running);
            }
        });
        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => pool.RestoreAsync(input, Fast, progress)));
        foreach (var r in results)
        {
            r.Dispose();
        }
        Assert.Equal(2, pool.Concurrency);
        Assert.InRange(most, 1, 2); // the pool never lets a third restore start
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
