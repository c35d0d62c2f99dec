using LatentIndigo.Batch;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Orleans;

/// <summary>
/// The model set a worker silo hosts: one pipeline, loaded on first use, that all the silo's worker slots share (one
/// copy of the diffusion models per silo, however many slots). Registered by
/// <see cref="SiloBuilderExtensions.AddLatentIndigoWorkers"/>, which makes the silo's service container dispose it, and
/// with it the pipeline, when the silo stops.
/// </summary>
/// <param name="createPipeline">
/// Loads the pipeline. Build it with <c>maxConcurrentRestores</c> = <paramref name="slots"/>
/// (<see cref="RestorationPipelineOptions.MaxConcurrentRestores"/>) so that the slots restore at once; with fewer, the
/// slots take turns.
/// </param>
/// <param name="slots">Worker slots on this silo: one per GPU, or as many restores as memory allows on a CPU.</param>
public sealed class WorkerModelSet(Func<RestorationPipeline> createPipeline, int slots = 1) : IDisposable
{
    private readonly Lazy<PipelinePool> pool = new(() => new PipelinePool([createPipeline()]), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Worker slots on this silo.</summary>
    public int Slots { get; } = slots >= 1 ? slots : throw new ArgumentOutOfRangeException(nameof(slots), slots, "At least one slot.");

    /// <summary>The shared pipeline, loaded by the first slot that needs it (a failed load is retried by the next).</summary>
    internal PipelinePool Restorer => pool.Value;

    /// <summary>Disposes the pipeline if it was loaded (running restores are cancelled and awaited).</summary>
    public void Dispose()
    {
        if (pool.IsValueCreated)
        {
            pool.Value.Dispose();
        }
    }
}
