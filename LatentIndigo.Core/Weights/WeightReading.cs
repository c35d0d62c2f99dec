namespace LatentIndigo.Weights;

/// <summary>Shared checks and chunked conversion for the file readers.</summary>
internal static class WeightReading
{
    // Converted a chunk at a time so tensors above 2 GB of source bytes still read (the span API takes int lengths).
    private const int ChunkElements = 1 << 20;

    /// <summary>Reads a row-major tensor stored at <paramref name="byteOffset"/> of <paramref name="file"/>.</summary>
    public static void ReadContiguous(MappedFile file, long byteOffset, WeightInfo info, Span<float> destination, string origin)
    {
        CheckDestination(info, destination, origin);
        int size = info.DType.Size();
        for (int start = 0; start < destination.Length; start += ChunkElements)
        {
            int count = Math.Min(ChunkElements, destination.Length - start);
            WeightConversion.ToFloat32(file.Span(byteOffset + (long)start * size, count * size), info.DType, destination.Slice(start, count));
        }
    }

    /// <summary>Refuses integer tensors and destinations of the wrong length with a message naming the tensor.</summary>
    public static void CheckDestination(WeightInfo info, Span<float> destination, string origin)
    {
        if (!info.DType.IsFloatingPoint())
        {
            throw new WeightFileException($"'{origin}': tensor '{info.Name}' holds {info.DType} values, not floating-point weights.");
        }
        if (destination.Length != info.ElementCount)
        {
            throw new WeightFileException($"'{origin}': tensor '{info.Name}' {info.ShapeText} has {info.ElementCount:N0} values but {destination.Length:N0} were asked for.");
        }
    }
}
