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

    /// <summary>What the tensors come from (a file path, or a view's description), for messages.</summary>
    string Origin { get; }
}
