namespace LatentIndigo.Orleans;

/// <summary>The cluster's list of active jobs, persisted like the jobs.</summary>
public sealed class JobBoardGrain(
    [PersistentState("board", LatentIndigoClusterOptions.StorageName)] IPersistentState<List<string>> state) : Grain, IJobBoardGrain
{
    /// <inheritdoc />
    public async Task AddAsync(string jobId)
    {
        if (!state.State.Contains(jobId))
        {
            state.State.Add(jobId);
            await state.WriteStateAsync();
        }
    }

    /// <inheritdoc />
    public async Task RemoveAsync(string jobId)
    {
        if (state.State.Remove(jobId))
        {
            await state.WriteStateAsync();
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> GetActiveAsync() => Task.FromResult<IReadOnlyList<string>>(state.State.ToList());
}
