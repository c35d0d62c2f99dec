namespace LatentIndigo.Orleans;

/// <summary>Submits, watches and cancels restoration jobs on a cluster, through any Orleans client or silo.</summary>
/// <param name="grains">The cluster client (or a silo's grain factory).</param>
public sealed class RestoreClusterClient(IGrainFactory grains)
{
    /// <summary>Submits a job under <paramref name="jobId"/> (resubmitting the same spec is harmless) and returns the id.</summary>
    public async Task<string> SubmitAsync(RestoreJobSpec spec, string? jobId = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        jobId ??= Guid.NewGuid().ToString("N");
        await grains.GetGrain<IRestoreJobGrain>(jobId).SubmitAsync(spec);
        return jobId;
    }

    /// <summary>The job's status now.</summary>
    public Task<ClusterJobStatus> GetStatusAsync(string jobId) => grains.GetGrain<IRestoreJobGrain>(jobId).GetStatusAsync();

    /// <summary>Cancels the job.</summary>
    public Task CancelAsync(string jobId) => grains.GetGrain<IRestoreJobGrain>(jobId).CancelAsync();

    /// <summary>Polls the job until it is finished or cancelled, reporting each status; returns the last.</summary>
    public async Task<ClusterJobStatus> WatchAsync(string jobId, IProgress<ClusterJobStatus>? progress = null, TimeSpan? pollInterval = null,
        CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var status = await GetStatusAsync(jobId);
            progress?.Report(status);
            if (status.Finished)
            {
                return status;
            }
            await Task.Delay(pollInterval ?? TimeSpan.FromSeconds(1), cancellationToken);
        }
    }
}
