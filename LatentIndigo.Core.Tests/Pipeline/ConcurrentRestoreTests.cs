using LatentIndigo.Degradations;
using LatentIndigo.Diffusion;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Pipeline;

/// <summary>One pipeline (one model set) serving several restores at once.</summary>
public class ConcurrentRestoreTests(PipelineFixture fixture) : IClassFixture<PipelineFixture>
{
    private static readonly RestoreOptions Fast = RestoreOptions.Default with { Steps = 6, Strength = 0.5 };

    private static Tensor LowQuality(int height, int width, int shift)
    {
        using var photo = ImageIO.Load(TestData.Cc0("coffee.png"));
        using var crop = photo.narrow(2, 100 + shift, height * 4).narrow(3, 150 + shift, width * 4);
        return MatlabBicubic.Resize(crop, 0.25).clamp(0f, 1f);
    }

    /// <summary>A second pipeline over the fixture's stand-in export and INNs (not owned), allowing 4 restores at once.</summary>
    private RestorationPipeline Shared(int maxConcurrent) =>
        new(StableDiffusionModels.Load(fixture.ModelFolder), fixture.PixelLifting, fixture.LatentLifting,
            ownsComponents: false, maxConcurrentRestores: maxConcurrent);

    [Fact]
    public async Task Parallel_restores_on_one_pipeline_equal_sequential_ones()
    {
        var models = StableDiffusionModels.Load(fixture.ModelFolder);
        using var pipeline = new RestorationPipeline(models, fixture.PixelLifting, fixture.LatentLifting, ownsComponents: false,
            maxConcurrentRestores: 4);
        try
        {
            // Different inputs, strategies and seeds, so a buffer shared by mistake would mix images.
            var jobs = new (Tensor Input, RestoreOptions Options)[]
            {
                (LowQuality(16, 16, 0), Fast),
                (LowQuality(16, 24, 7), Fast with { Strategy = GuidanceStrategy.LatentInn, Seed = 3 }),
                (LowQuality(12, 16, 13), Fast with { Strategy = GuidanceStrategy.None, Seed = 5 }),
                (LowQuality(16, 16, 21), Fast with { Blind = true, Seed = 9 }),
            };
            var sequential = jobs.Select(j => pipeline.Restore(j.Input, j.Options)).ToArray();
            var parallel = await Task.WhenAll(jobs.Select(j => pipeline.RestoreAsync(j.Input, j.Options)));
            for (int i = 0; i < jobs.Length; i++)
            {
                // Each restore has its own buffers, sampler, generator and INN copies: bit for bit. (A 2e-5 difference once
                // seen in full-suite runs came from another test changing libtorch's process-wide thread count, which
                // reorders blind refinement's gradient sums; that test now runs alone.)
                Assert.True(sequential[i].Image.equal(parallel[i].Image).all().item<bool>(), $"job {i} differs when run in parallel");
                Assert.True(sequential[i].UnetTime > TimeSpan.Zero);
            }
            foreach (var r in sequential.Concat(parallel))
            {
                r.Dispose();
            }
        }
        finally
        {
            models.Dispose();
        }
    }

    [Fact]
    public async Task Calls_beyond_the_limit_wait_in_line_instead_of_failing()
    {
        var models = StableDiffusionModels.Load(fixture.ModelFolder);
        using var pipeline = new RestorationPipeline(models, fixture.PixelLifting, null, ownsComponents: false, maxConcurrentRestores: 1);
        try
        {
            using var y = LowQuality(12, 12, 0);
            int running = 0, maxRunning = 0;
            var progress = new SyncProgress<RestoreProgress>(p =>
            {
                if (p.Stage == RestoreStage.Preparing)
                {
                    int now = Interlocked.Increment(ref running);
                    InterlockedMax(ref maxRunning, now);
                }
                else if (p.Stage == RestoreStage.Completed)
                {
                    Interlocked.Decrement(ref running);
                }
            });
            var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => pipeline.RestoreAsync(y, Fast, progress)));
            Assert.Equal(1, maxRunning);
            Assert.All(results, r => Assert.True(r.Image.equal(results[0].Image).all().item<bool>()));
            foreach (var r in results)
            {
                r.Dispose();
            }
        }
        finally
        {
            models.Dispose();
        }
    }

    [Fact]
    public async Task Dispose_cancels_a_running_restore_and_waits_for_it()
    {
        var pipeline = Shared(maxConcurrent: 1);
        using var y = LowQuality(16, 16, 0);
        var sampling = new TaskCompletionSource();
        bool disposeReturned = false;
        int eventsAfterDispose = 0;
        var progress = new SyncProgress<RestoreProgress>(p =>
        {
            if (Volatile.Read(ref disposeReturned))
            {
                Interlocked.Increment(ref eventsAfterDispose);
            }
            if (p.Stage == RestoreStage.Sampling)
            {
                sampling.TrySetResult();
            }
        });
        var running = pipeline.RestoreAsync(y, RestoreOptions.Default with { Steps = 500, Strength = 1.0 }, progress);
        var waiting = pipeline.RestoreAsync(y, Fast);
        await Task.WhenAny(sampling.Task, running).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.False(running.IsFaulted, running.Exception?.ToString());
        pipeline.Dispose();
        Volatile.Write(ref disposeReturned, true);
        // The restore's work ended before Dispose returned: it reports nothing afterwards (it reports once per tile and
        // step while it runs), and it ends with ObjectDisposedException. (Its Task completes just after, in the
        // continuation that released its slot.)
        await Assert.ThrowsAsync<ObjectDisposedException>(() => running);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
        Assert.Equal(0, Volatile.Read(ref eventsAfterDispose));
        Assert.Throws<ObjectDisposedException>(() => pipeline.Restore(y, Fast));
        // The shared INNs were not owned: they still work.
        using var decomposition = fixture.PixelLifting.Forward(torch.rand(1, 3, 16, 16), null);
        pipeline.Models!.Dispose();
    }

    [Fact]
    public async Task Blind_restores_never_change_the_shared_inns()
    {
        using var pipeline = Shared(maxConcurrent: 2);
        var pixelBefore = Snapshot(fixture.PixelLifting);
        var latentBefore = Snapshot(fixture.LatentLifting);
        using var y = LowQuality(16, 16, 0);
        var blind = Fast with { Blind = true, RefinementLearningRate = 1e-2 };
        var results = await Task.WhenAll(
            pipeline.RestoreAsync(y, blind),
            pipeline.RestoreAsync(y, blind with { Strategy = GuidanceStrategy.LatentInn }));
        using var nonBlind = pipeline.Restore(y, Fast);
        // Refinement did run (the blind result differs from the non-blind one) ...
        Assert.False(results[0].Image.equal(nonBlind.Image).all().item<bool>(), "blind refinement changed nothing");
        // ... on private copies: the shared weights are bit-identical afterwards.
        AssertSame(pixelBefore, fixture.PixelLifting);
        AssertSame(latentBefore, fixture.LatentLifting);
        foreach (var r in results)
        {
            r.Dispose();
        }
        pipeline.Models!.Dispose();
    }

    private static Dictionary<string, Tensor> Snapshot(LiftingInn inn) =>
        inn.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    private static void AssertSame(Dictionary<string, Tensor> before, LiftingInn inn)
    {
        foreach (var (name, value) in inn.state_dict())
        {
            Assert.True(before[name].equal(value).all().item<bool>(), $"{name} changed");
            before[name].Dispose();
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
