using LatentIndigo.Pipeline;
using static TorchSharp.torch;

namespace LatentIndigo.Batch;

/// <summary>
/// What a batch restores with: a restoration that may run <see cref="Concurrency"/> times at once. The seam between a
/// batch job (<see cref="RestoreBatch"/>, or a cluster worker) and whatever holds the model set, so the job does not
/// care whether the concurrent restores share one pipeline or draw from a pool (<see cref="PipelinePool"/>).
/// </summary>
public interface IBatchRestorer
{
    /// <summary>How many restorations may run at once (at least 1).</summary>
    int Concurrency { get; }

    /// <summary>Restores one image, as <see cref="RestorationPipeline.Restore(Tensor, RestoreOptions?, IProgress{RestoreProgress}?, CancellationToken)"/>.</summary>
    Task<RestoreResult> RestoreAsync(Tensor lowQuality, RestoreOptions options, IProgress<RestoreProgress>? progress = null,
        CancellationToken cancellationToken = default);
}
