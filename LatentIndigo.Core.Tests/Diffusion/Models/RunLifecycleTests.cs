using LatentIndigo.Diffusion;
using LatentIndigo.StandIns;
using Xunit;
using static LatentIndigo.Tests.Diffusion.StandIns.StandInExpectations;

namespace LatentIndigo.Tests.Diffusion.Models;

/// <summary>Cancellation of in-flight runs, concurrent use and disposal during a run, on a deliberately slow stand-in.</summary>
public class RunLifecycleTests
{
    // ≈ 2·128²·9·(48²·60) ≈ 40 GFLOP per run: seconds on 2 cores, so a run is surely in flight when we act on it.
    private static StandInOptions Slow() => new() { Cost = new StandInCost(48, 60) };

    [Fact]
    public void CancellingTheToken_TerminatesTheInFlightRun()
    {
        using var folder = StandInModelBuilder.CreateTemporary(Slow());
        using var models = StableDiffusionModels.Load(folder.Path);
        // 256² latents: ≈160 GFLOP, well over a second even on an idle 2-core machine, cancelled after 100 ms.
        using var latents = RandomNormal(1, 1, 4, 256, 256);
        using var states = RandomNormal(2, 1, 77, 32);
        using var cts = new CancellationTokenSource();
        Assert.False(cts.IsCancellationRequested);
        // Cancel from a dedicated thread: CancelAfter's timer callback needs a free thread-pool thread, and on a 2-core
        // machine the pool can be starved for most of a second while the test thread sits in the native run.
        var canceller = new Thread(() =>
        {
            Thread.Sleep(100);
            cts.Cancel();
        });
        canceller.Start();
        var e = Assert.ThrowsAny<OperationCanceledException>(() => models.Unet.PredictNoise(latents, 10, states, cts.Token));
        Assert.Equal(cts.Token, e.CancellationToken);
        Assert.IsType<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(e.InnerException); // it came from RunOptions.Terminate
        canceller.Join();

        // The session is usable afterwards (small shape: fast).
        using var small = RandomNormal(3, 1, 4, 8, 8);
        var output = models.Unet.PredictNoise(small, 10, states);
        using var expected = UnetOutput(small, 10, states);
        Assert.True(MaxAbsDiff(expected, output) < 0.5); // conv stack adds a bounded term; plumbing works
    }

    [Fact]
    public void AlreadyCancelledToken_ThrowsBeforeRunning()
    {
        using var folder = StandInModelBuilder.CreateTemporary();
        using var models = StableDiffusionModels.Load(folder.Path);
        using var latents = RandomNormal(1, 1, 4, 8, 8);
        using var states = RandomNormal(2, 1, 77, 32);
        Assert.ThrowsAny<OperationCanceledException>(() => models.Unet.PredictNoise(latents, 10, states, new CancellationToken(true)));
    }

    [Fact]
    public void ConcurrentUseOfOneModel_IsRejected_AndDisposeWaitsForTheRun()
    {
        using var folder = StandInModelBuilder.CreateTemporary(Slow());
        var models = StableDiffusionModels.Load(folder.Path);
        // 256² latents: about a second per run, so the run is surely still in flight 150 ms after it started.
        using var latents = RandomNormal(1, 1, 4, 256, 256);
        using var states = RandomNormal(2, 1, 77, 32);
        using var started = new ManualResetEventSlim();
        var run = Task.Factory.StartNew(() =>
        {
            started.Set();
            models.Unet.PredictNoise(latents, 10, states);
        }, TaskCreationOptions.LongRunning); // its own thread: not delayed by a busy thread pool
        started.Wait();
        Thread.Sleep(150); // let the run enter ONNX Runtime
        var e = Assert.Throws<InvalidOperationException>(() => models.Unet.PredictNoise(latents, 10, states));
        Assert.Contains("already running", e.Message);

        // Disposing now terminates the in-flight run and waits for it; the run reports the disposal.
        models.Dispose();
        var runError = Assert.ThrowsAny<Exception>(() => run.Wait(TimeSpan.FromSeconds(30)));
        Assert.IsType<ObjectDisposedException>(Assert.IsType<AggregateException>(runError).InnerException);
        Assert.Throws<ObjectDisposedException>(() => models.Unet.PredictNoise(latents, 10, states));
    }
}
