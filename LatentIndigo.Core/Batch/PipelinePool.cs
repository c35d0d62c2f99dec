using LatentIndigo.Pipeline;
using static TorchSharp.torch;

namespace LatentIndigo.Batch;

/// <summary>
/// An <see cref="IBatchRestorer"/> over several pipelines, each running one restoration at a time (a
/// <see cref="RestorationPipeline"/> refuses a second concurrent call). Give each pipeline its own
/// <see cref="Diffusion.StableDiffusionModels"/> and INNs: a model set runs one call per model at a time, and an INN
/// carries autograd state during pixel guidance and blind refinement, so neither may be shared by concurrent restores.
/// The memory cost is one set of weights per pipeline.
/// </summary>
public sealed class PipelinePool : IBatchRestorer, IDisposable
{
    private readonly RestorationPipeline[] pipelines;
    private readonly Stack<RestorationPipeline> free;
    private readonly SemaphoreSlim available;
    private readonly Action? onDispose;
    private bool disposed;

    /// <summary>Creates a pool; it owns the pipelines and disposes them (then runs <paramref name="onDispose"/>, e.g. to free a shared model set).</summary>
    /// <param name="pipelines">One pipeline per concurrent restoration (at least one).</param>
    /// <param name="onDispose">Run after the pipelines are disposed, or null.</param>
    public PipelinePool(IEnumerable<RestorationPipeline> pipelines, Action? onDispose = null)
    {
        ArgumentNullException.ThrowIfNull(pipelines);
        this.pipelines = pipelines.ToArray();
        if (this.pipelines.Length == 0)
        {
            throw new ArgumentException("A pool needs at least one pipeline.", nameof(pipelines));
        }
        free = new Stack<RestorationPipeline>(this.pipelines);
        available = new SemaphoreSlim(this.pipelines.Length, this.pipelines.Length);
        this.onDispose = onDispose;
    }

    /// <summary>The number of pipelines.</summary>
    public int Concurrency => pipelines.Length;

    /// <inheritdoc />
    public async Task<RestoreResult> RestoreAsync(Tensor lowQuality, RestoreOptions options, IProgress<RestoreProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        await available.WaitAsync(cancellationToken).ConfigureAwait(false);
        RestorationPipeline pipeline;
        lock (free)
        {
            pipeline = free.Pop();
        }
        try
        {
            return await pipeline.RestoreAsync(lowQuality, options, progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (free)
            {
                free.Push(pipeline);
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
