using LatentIndigo.Batch;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;

namespace LatentIndigo.Orleans;

/// <summary>
/// A restoration slot. Placed on the silo that activates it (each worker silo activates its own slots at start-up),
/// and its class is removed from silos without a model set, so Orleans never places one there.
/// </summary>
[PreferLocalPlacement]
public sealed class RestoreWorkerGrain(
    IImageStore store,
    WorkerModelSet modelSet,
    IOptions<LatentIndigoClusterOptions> options,
    ILogger<RestoreWorkerGrain> logger) : Grain, IRestoreWorkerGrain
{
    private readonly LatentIndigoClusterOptions settings = options.Value;
    private IGrainTimer? timer;
    private int restored;

    /// <inheritdoc />
    public Task StartAsync()
    {
        // Not interleaving: one image at a time per slot; the next tick comes after the previous one ends.
        timer ??= this.RegisterGrainTimer(PullAsync, new GrainTimerCreationOptions(TimeSpan.Zero, settings.PollInterval) { KeepAlive = true });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<int> GetRestoredCountAsync() => Task.FromResult(restored);

    private async Task PullAsync(CancellationToken cancellationToken)
    {
        var jobs = await GrainFactory.GetGrain<IJobBoardGrain>(0).GetActiveAsync();
        foreach (var jobId in jobs)
        {
            var job = GrainFactory.GetGrain<IRestoreJobGrain>(jobId);
            while (!cancellationToken.IsCancellationRequested && await job.NextAsync(this.GetPrimaryKeyString()) is { } item)
            {
                await RestoreAsync(job, item);
            }
        }
    }

    private async Task RestoreAsync(IRestoreJobGrain job, WorkItem item)
    {
        // The silo's one pipeline, shared by its slots (the model set owns it; the silo disposes it when it stops).
        var restorer = modelSet.Restorer;
        using var stop = new CancellationTokenSource();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var work = Task.Run(async () =>
        {
            byte[] input = await store.ReadAsync(new Uri(item.Input), stop.Token);
            var options = item.Settings.ToRestoreOptions(modelSet.Estimator(item.Settings.Estimator));
            var outcome = await BatchImageProcessor.RestoreAsync(restorer, input, item.Input, options, null, null, stop.Token);
            await store.WriteAsync(new Uri(item.Output), outcome.Png, stop.Token);
            return outcome;
        }, stop.Token);
        // Renew the lease while restoring; a refusal (job cancelled, image finished elsewhere) stops the restore.
        while (await Task.WhenAny(work, Task.Delay(settings.RenewInterval)) != work)
        {
            if (!await job.RenewAsync(item.Index, item.Lease))
            {
                stop.Cancel();
                break;
            }
        }
        try
        {
            var outcome = await work;
            await job.CompleteAsync(item.Index, item.Lease, this.GetPrimaryKeyString(), outcome.Sha256, clock.Elapsed.TotalSeconds);
            restored++;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            logger.LogInformation("Stopped restoring {Input}: the job was cancelled or the image finished elsewhere", item.Input);
        }
        catch (Exception ex)
        {
            string message = ex is LatentIndigoException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            logger.LogWarning("Failed to restore {Input}: {Message}", item.Input, message);
            await job.FailAsync(item.Index, item.Lease, message);
        }
    }
}
