namespace LatentIndigo.Orleans;

/// <summary>One image handed to a worker, under a lease the worker renews while it restores.</summary>
[GenerateSerializer, Immutable]
public sealed record WorkItem
{
    /// <summary>The job.</summary>
    [Id(0)] public required string JobId { get; init; }

    /// <summary>The image's index in the job.</summary>
    [Id(1)] public int Index { get; init; }

    /// <summary>Input URI.</summary>
    [Id(2)] public required string Input { get; init; }

    /// <summary>Output URI.</summary>
    [Id(3)] public required string Output { get; init; }

    /// <summary>Settings.</summary>
    [Id(4)] public required ClusterRestoreSettings Settings { get; init; }

    /// <summary>This hand-out's lease.</summary>
    [Id(5)] public Guid Lease { get; init; }
}

/// <summary>A restoration job: hands out images, collects results; its state is persisted after every change.</summary>
public interface IRestoreJobGrain : IGrainWithStringKey
{
    /// <summary>Creates the job (again with the same spec: no effect).</summary>
    Task SubmitAsync(RestoreJobSpec spec);

    /// <summary>The next image for <paramref name="worker"/>, or null when none is left to hand out (or the job is cancelled).</summary>
    Task<WorkItem?> NextAsync(string worker);

    /// <summary>Renews a lease; false tells the worker to stop (job cancelled, or the image was finished by another worker).</summary>
    Task<bool> RenewAsync(int index, Guid lease);

    /// <summary>Records an output (idempotent: a second completion of a done image is counted, not applied).</summary>
    Task CompleteAsync(int index, Guid lease, string worker, string sha256, double seconds);

    /// <summary>Records a failure with its message; the job goes on.</summary>
    Task FailAsync(int index, Guid lease, string message);

    /// <summary>The job's status.</summary>
    Task<ClusterJobStatus> GetStatusAsync();

    /// <summary>Cancels the job: nothing more is handed out, running images are stopped at their next lease renewal.</summary>
    Task CancelAsync();
}

/// <summary>The jobs that have work to hand out (one board per cluster, key 0), so idle workers know where to ask.</summary>
public interface IJobBoardGrain : IGrainWithIntegerKey
{
    /// <summary>Adds a job.</summary>
    Task AddAsync(string jobId);

    /// <summary>Removes a finished or cancelled job.</summary>
    Task RemoveAsync(string jobId);

    /// <summary>The active jobs.</summary>
    Task<IReadOnlyList<string>> GetActiveAsync();
}

/// <summary>
/// A restoration slot on a silo that hosts a model set (one activation per GPU or configured slot): pulls images from
/// active jobs and restores them one at a time.
/// </summary>
public interface IRestoreWorkerGrain : IGrainWithStringKey
{
    /// <summary>Starts pulling work (idempotent).</summary>
    Task StartAsync();

    /// <summary>Images this worker has restored.</summary>
    Task<int> GetRestoredCountAsync();
}
