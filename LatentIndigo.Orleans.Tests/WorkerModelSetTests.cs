using LatentIndigo.Pipeline;
using Xunit;

namespace LatentIndigo.Orleans.Tests;

/// <summary>A worker silo loads its models once: every slot restores through the same pipeline, which the silo disposes.</summary>
public class WorkerModelSetTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Slots_share_one_pipeline_loaded_once_and_disposed_with_the_model_set()
    {
        int loads = 0;
        RestorationPipeline? loaded = null;
        var modelSet = new WorkerModelSet(() =>
        {
            Interlocked.Increment(ref loads);
            Thread.Sleep(200); // slots asking at once must wait for the one load, not start their own
            return loaded = fixture.CreatePipeline();
        }, slots: 3);
        var restorers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => modelSet.Restorer)));
        Assert.Equal(1, loads);
        Assert.All(restorers, r => Assert.Same(restorers[0], r));

        modelSet.Dispose();
        using var input = TorchSharp.torch.rand(1, 3, 8, 8);
        Assert.Throws<ObjectDisposedException>(() => loaded!.Restore(input));
        new WorkerModelSet(() => throw new InvalidOperationException("never loaded"), slots: 1).Dispose(); // nothing to dispose
    }
}
