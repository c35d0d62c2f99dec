namespace LatentIndigo.Weights.Torch;

/// <summary>A Python dict (or OrderedDict) as unpickled: entries in insertion order.</summary>
internal sealed class PickleDict
{
    private readonly Dictionary<object, int> index = [];

    public List<KeyValuePair<object, object?>> Entries { get; } = [];

    public void Set(object? key, object? value)
    {
        if (key is null)
        {
            throw new PickleException("a dictionary key is None");
        }
        if (index.TryGetValue(key, out int at))
        {
            Entries[at] = new(key, value);
        }
        else
        {
            index[key] = Entries.Count;
            Entries.Add(new(key, value));
        }
    }

    public bool TryGet(object key, out object? value)
    {
        if (index.TryGetValue(key, out int at))
        {
            value = Entries[at].Value;
            return true;
        }
        value = null;
        return false;
    }
}

/// <summary>A Python global named by the pickle (<c>module.name</c>); only ever compared, never resolved.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A value of an allowed but irrelevant type (e.g. a numpy scalar in training state): kept inert, never used.</summary>
internal sealed record PickleOpaque(PickleGlobal Type);

/// <summary>A storage named by a persistent id: <c>('storage', torch.FloatStorage, key, location, numel)</c>.</summary>
internal sealed record TorchStorage(string Key, WeightDType DType, long ElementCount);

/// <summary>A tensor rebuilt by <c>torch._utils._rebuild_tensor_v2</c>: a strided view of a storage.</summary>
internal sealed record TorchTensor(TorchStorage Storage, long StorageOffset, long[] Shape, long[] Stride);

/// <summary>The pickle stream is malformed or asks for something the restricted unpickler refuses.</summary>
internal sealed class PickleException(string message) : Exception(message);
