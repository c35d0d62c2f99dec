using LatentIndigo.Pipeline;
using static TorchSharp.torch;

namespace LatentIndigo.Batch;

/// <summary>
/// An <see cref="IBatchRestorer"/> over one or more pipelines. Its <see cref="Concurrency"/> is the sum of their
/// <see cref="RestorationPipeline.MaxConcurrentRestores"/>: one pipeline built with <c>maxConcurrentRestores: N</c>
/// serves N restores on one shared model set (the usual case); several pipelines spread the work over several model
/// sets (e.g. one per GPU). Each restore goes to the pipeline with the most free slots.
/// </summary>
public sealed class PipelinePool : IBatchRestorer, IDisposable
{
    private readonly RestorationPipeline[] pipelines;
    private readonly int[] inFlight;
    private readonly SemaphoreSlim available;
    private readonly Action? onDispose;
    private bool disposed;

    /// <summary>Creates a pool; it owns the pipelines and disposes them (then runs <paramref name="onDispose"/>, e.g. to free shared components).</summary>
    /// <param name="pipelines">At least one pipeline.</param>
    /// <param name="onDispose">Run after the pipelines are disposed, or null.</param>
    public PipelinePool(IEnumerable<RestorationPipeline> pipelines, Action? onDispose = null)
    {
        ArgumentNullException.ThrowIfNull(pipelines);
        this.pipelines = pipelines.ToArray();
        if (this.pipelines.Length == 0)
        {
            throw new ArgumentException("A pool needs at least one pipeline.", nameof(pipelines));
        }
        inFlight = new int[this.pipelines.Length];
        Concurrency = this.pipelines.Sum(p => p.MaxConcurrentRestores);
        available = new SemaphoreSlim(Concurrency, Concurrency);
        this.onDispose = onDispose;
    }

    /// <summary>Restores that run at once: the pipelines' <see cref="RestorationPipeline.MaxConcurrentRestores"/> together.</summary>
    public int Concurrency { get; }

    /// <inheritdoc />
    public async Task<RestoreResult> RestoreAsync(Tensor lowQuality, RestoreOptions options, IProgress<RestoreProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        await available.WaitAsync(cancellationToken).ConfigureAwait(false);
        int chosen = 0;
        lock (inFlight)
        {
            for (int i = 1; i < pipelines.Length; i++)
            {
                if (pipelines[i].MaxConcurrentRestores - inFlight[i] > pipelines[chosen].MaxConcurrentRestores - inFlight[chosen])
                {
                    chosen = i;
                }
            }
            inFlight[chosen]++;
        }
        try
        {
            return await pipelines[chosen].RestoreAsync(lowQuality, options, progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (inFlight)
            {
                inFlight[chosen]--;
            }
            available.Release();
        }
    }
    /// <inheritdoc />
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        foreach (var pipeline in pipelines)
        {
            pipeline.Dispose();
        }
        available.Dispose();
        onDispose?.Invoke();
    }
}
