using Microsoft.Extensions.Options;

namespace LatentIndigo.Orleans;

/// <summary>
/// A job: its state (every image's state, lease, output hash) is written to grain storage before any answer that
/// depends on it, so a job grain that moves to another silo after a failure continues where it was.
/// </summary>
public sealed class RestoreJobGrain(
    [PersistentState("job", LatentIndigoClusterOptions.StorageName)] IPersistentState<RestoreJobState> state,
    IOptions<LatentIndigoClusterOptions> options) : Grain, IRestoreJobGrain
{
    private readonly LatentIndigoClusterOptions settings = options.Value;

    private string JobId => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public async Task SubmitAsync(RestoreJobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (state.State.Spec is not null)
        {
            if (!state.State.Spec.Inputs.SequenceEqual(spec.Inputs) || state.State.Spec.Settings != spec.Settings || state.State.Spec.OutputFolder != spec.OutputFolder)
            {
                throw new InvalidOperationException($"The job '{JobId}' exists with another spec: submit under a new job id.");
            }
            return;
        }
        var outputs = spec.Inputs.Select(spec.OutputFor).ToList();
        var clash = outputs.GroupBy(o => o, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            throw new ArgumentException($"Several inputs would write '{clash.Key}': rename one.", nameof(spec));
        }
        state.State.Spec = spec;
        state.State.Images = spec.Inputs.Select((input, i) => new RestoreJobState.ImageEntry { Input = input, Output = outputs[i] }).ToList();
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IJobBoardGrain>(0).AddAsync(JobId);
    }

    /// <inheritdoc />
    public async Task<WorkItem?> NextAsync(string worker)
    {
        if (state.State.Spec is null || state.State.Cancelled)
        {
            return null;
        }
        var now = DateTime.UtcNow;
        int index = state.State.Images.FindIndex(i => i.State == "Pending");
        bool takenOver = false;
        if (index < 0)
        {
            index = state.State.Images.FindIndex(i => i.State == "Running" && i.LeaseExpiresUtc < now);
            takenOver = index >= 0;
        }
        if (index < 0)
        {
            if (state.State.Images.All(i => i.State is "Done" or "Failed"))
            {
                await GrainFactory.GetGrain<IJobBoardGrain>(0).RemoveAsync(JobId);
            }
            return null;
        }
        var image = state.State.Images[index];
        image.State = "Running";
        image.Lease = Guid.NewGuid();
        image.LeaseExpiresUtc = now + settings.LeaseTimeout;
        image.Worker = worker;
        image.Attempts++;
        if (takenOver)
        {
            state.State.Reassigned++;
        }
        await state.WriteStateAsync();
        return new WorkItem { JobId = JobId, Index = index, Input = image.Input, Output = image.Output, Settings = state.State.Spec.Settings, Lease = image.Lease };
    }

    /// <inheritdoc />
    public async Task<bool> RenewAsync(int index, Guid lease)
    {
        var image = state.State.Images[index];
        if (state.State.Cancelled || image.State != "Running" || image.Lease != lease)
        {
            return false;
        }
        image.LeaseExpiresUtc = DateTime.UtcNow + settings.LeaseTimeout;
        await state.WriteStateAsync();
        return true;
    }

    /// <inheritdoc />
    public async Task CompleteAsync(int index, Guid lease, string worker, string sha256, double seconds)
    {
        var image = state.State.Images[index];
        if (image.State == "Done")
        {
            state.State.DuplicateCompletions++;
            if (image.Sha256 != sha256)
            {
                image.Error = $"restored twice with different bytes ({image.Sha256} then {sha256}): the restoration is not deterministic on this cluster";
            }
        }
        else
        {
            // A completion under an older lease still counts: the output is written, and the write is idempotent.
            image.State = "Done";
            image.Worker = worker;
            image.Sha256 = sha256;
            image.Seconds = seconds;
            image.Error = null;
        }
        await state.WriteStateAsync();
    }

    /// <inheritdoc />
    public async Task FailAsync(int index, Guid lease, string message)
    {
        var image = state.State.Images[index];
        if (image.State == "Running" && image.Lease == lease)
        {
            image.State = "Failed";
            image.Error = message;
            await state.WriteStateAsync();
        }
    }

    /// <inheritdoc />
    public Task<ClusterJobStatus> GetStatusAsync()
    {
        var images = state.State.Images;
        return Task.FromResult(new ClusterJobStatus
        {
            Total = images.Count,
            Done = images.Count(i => i.State == "Done"),
            Failed = images.Count(i => i.State == "Failed"),
            Running = images.Count(i => i.State == "Running"),
            Cancelled = state.State.Cancelled,
            DuplicateCompletions = state.State.DuplicateCompletions,
            Reassigned = state.State.Reassigned,
            Failures = images.Where(i => i.Error is not null).Select(i => $"{i.Input}: {i.Error}").ToList(),
            Outputs = images.Where(i => i.State == "Done").ToDictionary(i => i.Output, i => i.Sha256!),
            DoneBy = images.Where(i => i.State == "Done").GroupBy(i => i.Worker ?? "").ToDictionary(g => g.Key, g => g.Count()),
            RunningOn = images.Where(i => i.State == "Running").Select(i => i.Worker ?? "").ToList(),
        });
    }

    /// <inheritdoc />
    public async Task CancelAsync()
    {
        state.State.Cancelled = true;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IJobBoardGrain>(0).RemoveAsync(JobId);
    }
}
