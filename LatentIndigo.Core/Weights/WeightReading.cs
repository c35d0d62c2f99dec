using System.Buffers;

namespace LatentIndigo.Weights;

/// <summary>Shared checks and chunked conversion for the file readers.</summary>
internal static class WeightReading
{
    // Read and converted through one bounded buffer (4 MiB of source bytes at a time): the file's pages never become
    // part of the process, and tensors above 2 GB of source bytes still read (the span API takes int lengths).
    private const int ChunkBytes = 4 << 20;

    /// <summary>Reads a row-major tensor stored at <paramref name="byteOffset"/> of <paramref name="file"/>.</summary>
    public static void ReadContiguous(MappedFile file, long byteOffset, WeightInfo info, Span<float> destination, string origin)
    {
        CheckDestination(info, destination, origin);
        ReadElements(file, byteOffset, info.DType, destination);
    }

    /// <summary>
    /// Reads <paramref name="destination"/>.Length elements of a row-major tensor starting at element
    /// <paramref name="firstElement"/> (a slice along its first axis, say); the caller has checked the range.
    /// </summary>
    public static void ReadRange(MappedFile file, long byteOffset, WeightInfo info, long firstElement, Span<float> destination, string origin)
    {
        if (!info.DType.IsFloatingPoint())
        {
            throw new WeightFileException($"'{origin}': tensor '{info.Name}' holds {info.DType} values, not floating-point weights.");
        }
        if (firstElement < 0 || firstElement > info.ElementCount - destination.Length)
        {
            throw new WeightFileException($"'{origin}': elements [{firstElement:N0}, {firstElement + destination.Length:N0}) lie outside tensor '{info.Name}' {info.ShapeText}.");
        }
        ReadElements(file, byteOffset + firstElement * info.DType.Size(), info.DType, destination);
    }

    private static void ReadElements(MappedFile file, long byteOffset, WeightDType dtype, Span<float> destination)
    {
        int size = dtype.Size();
        int chunkElements = ChunkBytes / size;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(destination.Length, chunkElements) * size);
        try
        {
            for (int start = 0; start < destination.Length; start += chunkElements)
            {
                int count = Math.Min(chunkElements, destination.Length - start);
                var bytes = buffer.AsSpan(0, count * size);
                file.Read(byteOffset + (long)start * size, bytes);
                WeightConversion.ToFloat32(bytes, dtype, destination.Slice(start, count));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
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
