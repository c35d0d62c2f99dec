namespace LatentIndigo.Weights;

/// <summary>
/// Base of the streaming writers: the tensors are declared up front (the formats put the index before the data), then
/// written one at a time in the declared order, converted from float32 to their declared type, so a multi-gigabyte
/// file is written without holding more than one tensor. <see cref="Complete"/> checks that every tensor was written.
/// </summary>
internal abstract class WeightWriter : IDisposable
{
    private const int ChunkElements = 1 << 18;
    private readonly IReadOnlyList<WeightInfo> tensors;
    private int next;

    protected WeightWriter(IReadOnlyList<WeightInfo> tensors)
    {
        this.tensors = tensors;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (!seen.Add(t.Name))
            {
                throw new ArgumentException($"Tensor '{t.Name}' is declared twice.", nameof(tensors));
            }
        }
    }

    /// <summary>Writes the next declared tensor from float32 values, converting them to its declared type.</summary>
    public void Write(string name, ReadOnlySpan<float> values)
    {
        var info = Next(name);
        if (!info.DType.IsFloatingPoint() || values.Length != info.ElementCount)
        {
            throw new ArgumentException($"Tensor '{name}' is declared {info.DType} {info.ShapeText}; got {values.Length} float32 values.", nameof(values));
        }
        int size = info.DType.Size();
        var buffer = new byte[Math.Min(values.Length, ChunkElements) * size];
        for (int start = 0; start < values.Length; start += ChunkElements)
        {
            int count = Math.Min(ChunkElements, values.Length - start);
            WeightConversion.FromFloat32(values.Slice(start, count), info.DType, buffer);
            WriteData(buffer.AsSpan(0, count * size));
        }
        EndTensor(info);
    }

    /// <summary>Writes the next declared tensor from its little-endian bytes, as stored (any type).</summary>
    public void WriteBytes(string name, ReadOnlySpan<byte> bytes)
    {
        var info = Next(name);
        if (bytes.Length != info.ElementCount * info.DType.Size())
        {
            throw new ArgumentException($"Tensor '{name}' is declared {info.DType} {info.ShapeText}; got {bytes.Length} bytes.", nameof(bytes));
        }
        WriteData(bytes);
        EndTensor(info);
    }

    /// <summary>Finishes the file; throws if a declared tensor was not written.</summary>
    public void Complete()
    {
        if (next != tensors.Count)
        {
            throw new InvalidOperationException($"Only {next} of {tensors.Count} declared tensors were written (next: '{tensors[next].Name}').");
        }
        Finish();
    }

    /// <inheritdoc />
    public virtual void Dispose()
    {
    }

    protected abstract void BeginTensor(WeightInfo info);

    protected abstract void WriteData(ReadOnlySpan<byte> bytes);

    protected abstract void EndTensor(WeightInfo info);

    protected abstract void Finish();

    private WeightInfo Next(string name)
    {
        if (next >= tensors.Count || tensors[next].Name != name)
        {
            throw new InvalidOperationException(next >= tensors.Count
                ? $"All {tensors.Count} declared tensors are written; '{name}' is one too many."
                : $"Tensors must be written in the declared order: expected '{tensors[next].Name}', got '{name}'.");
        }
        var info = tensors[next++];
        BeginTensor(info);
        return info;
    }
}
