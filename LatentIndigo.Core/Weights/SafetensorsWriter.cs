using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace LatentIndigo.Weights;

/// <summary>
/// Writes a safetensors file as the format is published: an 8-byte little-endian header length, a JSON header
/// (optional <c>__metadata__</c> of strings, then each tensor's <c>dtype</c>, <c>shape</c> and <c>data_offsets</c>)
/// padded with spaces to a multiple of 8 bytes so the data is aligned, then the tensors back to back in the declared
/// order with no gaps.
/// </summary>
internal sealed class SafetensorsWriter : WeightWriter
{
    private readonly Stream stream;

    /// <summary>Writes the header to <paramref name="stream"/>; the tensors follow through <see cref="WeightWriter.Write"/>.</summary>
    public SafetensorsWriter(Stream stream, IReadOnlyList<WeightInfo> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        : base(tensors)
    {
        this.stream = stream;
        var header = Header(tensors, metadata);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
    }

    /// <summary>Writes a whole file atomically from in-memory float32 tensors (tests and tools).</summary>
    public static void WriteFile(string path, IReadOnlyList<(WeightInfo Info, float[] Values)> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new SafetensorsWriter(stream, tensors.Select(t => t.Info).ToList(), metadata);
            foreach (var (info, values) in tensors)
            {
                writer.Write(info.Name, values);
            }
            writer.Complete();
        });

    internal static byte[] Header(IReadOnlyList<WeightInfo> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata)
                {
                    json.WriteString(k, v);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                long bytes = t.ElementCount * t.DType.Size();
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.SafetensorsName());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape)
                {
                    json.WriteNumberValue(d);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        int padding = (int)((8 - buffer.Length % 8) % 8);
        buffer.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        return buffer.ToArray();
    }

    protected override void BeginTensor(WeightInfo info)
    {
    }

    protected override void WriteData(ReadOnlySpan<byte> bytes) => stream.Write(bytes);

    protected override void EndTensor(WeightInfo info)
    {
    }

    protected override void Finish() => stream.Flush();
}
