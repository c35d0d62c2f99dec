namespace LatentIndigo.Weights;

/// <summary>
/// Named tensors read on demand from a weight file (or a renaming view of one). Reading converts every floating-point
/// type to float32, one tensor at a time, so a multi-gigabyte file is never held in memory.
/// </summary>
internal interface IWeightSource : IDisposable
{
    /// <summary>Every tensor name, in the file's order.</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>Whether a tensor of this name exists.</summary>
    bool Contains(string name);

    /// <summary>The tensor's type and shape.</summary>
    /// <exception cref="WeightFileException">No tensor has this name (the message names the file).</exception>
    WeightInfo Info(string name);

    /// <summary>
    /// Copies the tensor, converted to float32, into <paramref name="destination"/>, whose length must be its element
    /// count.
    /// </summary>
    /// <exception cref="WeightFileException">Unknown name, non-floating-point tensor or wrong destination length.</exception>
    void ReadFloat32(string name, Span<float> destination);

    /// <summary>
    /// Copies <paramref name="destination"/>.Length elements of the tensor, from element <paramref name="firstElement"/>
    /// in row-major order, converted to float32 (a slice along the first axis, e.g. one third of a fused q/k/v matrix).
    /// The default reads the whole tensor; the file readers read only the slice.
    /// </summary>
    /// <exception cref="WeightFileException">Unknown name, non-floating-point tensor or a range outside the tensor.</exception>
    void ReadFloat32Range(string name, long firstElement, Span<float> destination)
    {
        var info = Info(name);
        if (firstElement < 0 || firstElement > info.ElementCount - destination.Length)
        {
            throw new WeightFileException($"'{Origin}': elements [{firstElement:N0}, {firstElement + destination.Length:N0}) lie outside tensor '{name}' {info.ShapeText}.");
        }
        var whole = new float[info.ElementCount];
        ReadFloat32(name, whole);
        whole.AsSpan(checked((int)firstElement), destination.Length).CopyTo(destination);
    }

    /// <summary>What the tensors come from (a file path, or a view's description), for messages.</summary>
    string Origin { get; }
}
