using System.Collections.Concurrent;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace LatentIndigo.Orleans.Tests;

/// <summary>
/// Grain storage for in-process test clusters that outlives any silo (Orleans' memory storage keeps state in grains,
/// which die with a killed silo): one dictionary per test cluster, states deep-copied in and out as a real store would.
/// </summary>
internal sealed class SharedMemoryGrainStorage(ConcurrentDictionary<string, object> store, DeepCopier copier) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (store.TryGetValue(Key(stateName, grainId), out var value))
        {
            grainState.State = copier.Copy((T)value);
            grainState.RecordExists = true;
            grainState.ETag = "1";
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        store[Key(stateName, grainId)] = copier.Copy(grainState.State)!;
        grainState.RecordExists = true;
        grainState.ETag = "1";
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        store.TryRemove(Key(stateName, grainId), out _);
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static string Key(string stateName, GrainId grainId) => $"{stateName}/{grainId}";
}
