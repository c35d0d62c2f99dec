using System.Collections.Concurrent;
using LatentIndigo.Batch;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Orleans;

/// <summary>
/// The model set a worker silo hosts: one pipeline, loaded on first use, that all the silo's worker slots share (one
/// copy of the diffusion models per silo, however many slots), and the learned initial estimators jobs name
/// (<see cref="ClusterRestoreSettings.Estimator"/>), each loaded once on first use. Registered by
/// <see cref="SiloBuilderExtensions.AddLatentIndigoWorkers"/>, which makes the silo's service container dispose it, and
/// with it the pipeline and the estimators, when the silo stops.
/// </summary>
/// <param name="createPipeline">
/// Loads the pipeline. Build it with <c>maxConcurrentRestores</c> = <paramref name="slots"/>
/// (<see cref="RestorationPipelineOptions.MaxConcurrentRestores"/>) so that the slots restore at once; with fewer, the
/// slots take turns.
/// </param>
/// <param name="slots">Worker slots on this silo: one per GPU, or as many restores as memory allows on a CPU.</param>
/// <param name="estimatorOptions">
/// Where and how the estimators run (pass the pipeline's <see cref="RestorationPipelineOptions.Models"/> as
/// <see cref="OnnxUpscaleEstimatorOptions.Session"/> to run them beside the diffusion models); null: the CPU.
/// </param>
public sealed class WorkerModelSet(Func<RestorationPipeline> createPipeline, int slots = 1, OnnxUpscaleEstimatorOptions? estimatorOptions = null) : IDisposable
{
    private readonly Lazy<PipelinePool> pool = new(() => new PipelinePool([createPipeline()]), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly ConcurrentDictionary<string, Lazy<OnnxUpscaleEstimator>> estimators = new(StringComparer.OrdinalIgnoreCase);
    private bool disposed;

    /// <summary>Worker slots on this silo.</summary>
    public int Slots { get; } = slots >= 1 ? slots : throw new ArgumentOutOfRangeException(nameof(slots), slots, "At least one slot.");

    /// <summary>The shared pipeline, loaded by the first slot that needs it (a failed load is retried by the next).</summary>
    internal PipelinePool Restorer => pool.Value;

    /// <summary>
    /// The estimator <paramref name="name"/> names (<see cref="ClusterRestoreSettings.Estimator"/>), loaded by the first
    /// slot that needs it and shared; null for bicubic. A failed load (a missing file, a model that cannot be mapped) is
    /// not kept: it throws its <see cref="LatentIndigoException"/> here, and the next image tries again.
    /// </summary>
    internal IInitialEstimator? Estimator(string? name)
    {
        if (ClusterRestoreSettings.IsBicubic(name))
        {
            return null;
        }
        ObjectDisposedException.ThrowIf(disposed, this);
        var lazy = estimators.GetOrAdd(name!, n => new Lazy<OnnxUpscaleEstimator>(() => OnnxUpscaleEstimator.Load(n, estimatorOptions),
            LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            estimators.TryRemove(new KeyValuePair<string, Lazy<OnnxUpscaleEstimator>>(name!, lazy));
            throw;
        }
    }

    /// <summary>Disposes the pipeline and the estimators that were loaded (running restores are cancelled and awaited).</summary>
    public void Dispose()
    {
        disposed = true;
        if (pool.IsValueCreated)
        {
            pool.Value.Dispose();
        }
        foreach (var lazy in estimators.Values)
        {
            if (lazy.IsValueCreated)
            {
                lazy.Value.Dispose();
            }
        }
        estimators.Clear();
    }
}
