using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace LatentIndigo.Weights;

/// <summary>
/// A safetensors file, memory-mapped: an 8-byte little-endian header length, a UTF-8 JSON header mapping each tensor
/// name to <c>dtype</c>, <c>shape</c> and <c>data_offsets</c> (relative to the end of the header) plus an optional
/// <c>__metadata__</c> map of strings, then the data. Everything the header claims is checked when the file is opened
/// (sizes, ranges inside the file, no overlaps), so a damaged file fails before any conversion starts.
/// </summary>
internal sealed class SafetensorsFile : IWeightSource
{
    /// <summary>The reference implementation refuses headers above 100 MB; a real SD header is about 100 KB.</summary>
    internal const long MaxHeaderBytes = 100_000_000;

    private readonly MappedFile file;
    private readonly Dictionary<string, (WeightInfo Info, long Offset)> tensors;
    private readonly List<string> names;

    private SafetensorsFile(MappedFile file, List<string> names, Dictionary<string, (WeightInfo, long)> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        this.file = file;
        this.names = names;
        this.tensors = tensors;
        Metadata = metadata;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Names => names;

    /// <inheritdoc />
    public string Origin => file.Path;

    /// <summary>The <c>__metadata__</c> strings (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="WeightFileException">The file is not a valid safetensors file (the message says why).</exception>
    public static SafetensorsFile Open(string path)
    {
        var file = new MappedFile(path);
        try
        {
            var (names, tensors, metadata) = ParseHeader(file);
            return new SafetensorsFile(file, names, tensors, metadata);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public bool Contains(string name) => tensors.ContainsKey(name);

    /// <inheritdoc />
    public WeightInfo Info(string name) => Find(name).Info;

    /// <inheritdoc />
    public void ReadFloat32(string name, Span<float> destination)
    {
        var (info, offset) = Find(name);
        WeightReading.ReadContiguous(file, offset, info, destination, Origin);
    }

    /// <inheritdoc />
    public void ReadFloat32Range(string name, long firstElement, Span<float> destination)
    {
        var (info, offset) = Find(name);
        WeightReading.ReadRange(file, offset, info, firstElement, destination, Origin);
    }

    /// <inheritdoc />
    public void Dispose() => file.Dispose();

    private (WeightInfo Info, long Offset) Find(string name) =>
        tensors.TryGetValue(name, out var entry)
            ? entry
            : throw new WeightFileException($"'{Origin}' has no tensor named '{name}' ({tensors.Count} tensors).");

    private static (List<string>, Dictionary<string, (WeightInfo, long)>, IReadOnlyDictionary<string, string>) ParseHeader(MappedFile file)
    {
        string path = file.Path;
        if (file.Length < 8)
        {
            throw new WeightFileException($"'{path}' is not a safetensors file: it is {file.Length} bytes long, shorter than the 8-byte header length.");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file.Span(0, 8));
        if (headerLength > MaxHeaderBytes)
        {
            throw new WeightFileException($"'{path}' declares a safetensors header of {headerLength:N0} bytes (at most {MaxHeaderBytes:N0} are accepted): the file is damaged or not a safetensors file.");
        }
        if ((long)headerLength > file.Length - 8)
        {
            throw new WeightFileException($"'{path}' is truncated: its safetensors header declares {headerLength:N0} bytes but only {file.Length - 8:N0} follow.");
        }
        long dataStart = 8 + (long)headerLength;
        long dataLength = file.Length - dataStart;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(file.Span(8, (int)headerLength).ToArray());
        }
        catch (JsonException ex)
        {
            throw new WeightFileException($"'{path}' has a safetensors header that is not valid JSON ({ex.Message}): the file is damaged.", ex);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new WeightFileException($"'{path}' has a safetensors header that is not a JSON object.");
            }
            var names = new List<string>();
            var tensors = new Dictionary<string, (WeightInfo, long)>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var ranges = new List<(long Begin, long End, string Name)>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    ReadMetadata(path, property.Value, metadata);
                    continue;
                }
                var (info, begin, end) = ReadEntry(path, property.Name, property.Value);
                if (end > dataLength)
                {
                    throw new WeightFileException($"'{path}': tensor '{info.Name}' lies at bytes [{begin}, {end}) of the data but the file holds only {dataLength:N0} data bytes: the file is truncated or damaged.");
                }
                if (!tensors.TryAdd(info.Name, (info, dataStart + begin)))
                {
                    throw new WeightFileException($"'{path}' lists tensor '{info.Name}' twice.");
                }
                names.Add(info.Name);
                ranges.Add((begin, end, info.Name));
            }
            ranges.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            for (int i = 1; i < ranges.Count; i++)
            {
                if (ranges[i].Begin < ranges[i - 1].End)
                {
                    throw new WeightFileException($"'{path}': tensors '{ranges[i - 1].Name}' and '{ranges[i].Name}' overlap in the data (bytes [{ranges[i - 1].Begin}, {ranges[i - 1].End}) and [{ranges[i].Begin}, {ranges[i].End})): the file is damaged.");
                }
            }
            return (names, tensors, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement element, Dictionary<string, string> into)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new WeightFileException($"'{path}': the safetensors __metadata__ entry must be an object of strings.");
        }
        foreach (var item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new WeightFileException($"'{path}': __metadata__ value '{item.Name}' is not a string.");
            }
            into[item.Name] = item.Value.GetString()!;
        }
    }

    private static (WeightInfo Info, long Begin, long End) ReadEntry(string path, string name, JsonElement element)
    {
        string Where() => $"'{path}': tensor '{name}'";
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !element.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
        {
            throw new WeightFileException($"{Where()} has a malformed header entry (it needs \"dtype\", \"shape\" and \"data_offsets\").");
        }
        string dtypeName = dtypeElement.GetString()!;
        var dtype = WeightDTypes.FromSafetensorsName(dtypeName)
            ?? throw new WeightFileException($"{Where()} has dtype '{dtypeName}', which this reader does not support (supported: F32, F16, BF16, F64 and integer types).");
        var shape = new long[shapeElement.GetArrayLength()];
        int d = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long value) || value < 0)
            {
                throw new WeightFileException($"{Where()} has an invalid shape {shapeElement.GetRawText()}.");
            }
            shape[d++] = value;
        }
        if (offsetsElement.GetArrayLength() != 2)
        {
            throw new WeightFileException($"{Where()} has data_offsets {offsetsElement.GetRawText()}; two numbers [begin, end] are required.");
        }
        long begin = ReadOffset(offsetsElement[0]), end = ReadOffset(offsetsElement[1]);
        if (begin < 0 || end < begin)
        {
            throw new WeightFileException($"{Where()} has invalid data_offsets {offsetsElement.GetRawText()}.");
        }
        var info = new WeightInfo(name, dtype, shape);
        long expected;
        try
        {
            expected = checked(info.ElementCount * dtype.Size());
        }
        catch (OverflowException)
        {
            throw new WeightFileException($"{Where()} has an impossibly large shape {info.ShapeText}.");
        }
        if (end - begin != expected)
        {
            throw new WeightFileException($"{Where()} is {dtypeName} {info.ShapeText} ({expected:N0} bytes) but its data_offsets span {end - begin:N0} bytes: the header is damaged.");
        }
        return (info, begin, end);

        static long ReadOffset(JsonElement e) => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) ? v : -1;
    }
}
