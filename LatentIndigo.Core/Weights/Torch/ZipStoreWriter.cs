using System.Buffers.Binary;
using System.Text;

namespace LatentIndigo.Weights.Torch;

/// <summary>
/// Writes a zip archive of uncompressed ("stored") entries, the way torch.save lays out a checkpoint: each entry's data
/// starts at a multiple of 64 bytes (padding in the local header's extra field), sizes and CRC are patched into the
/// local header once the entry is written (the stream must be seekable), and zip64 records are used where sizes or
/// offsets pass 4 GB.
/// </summary>
internal sealed class ZipStoreWriter
{
    private const int Alignment = 64;
    private readonly Stream stream;
    private readonly List<(string Name, long LocalOffset, long Size, uint Crc)> written = [];
    private string? currentName;
    private long currentLocal;
    private long currentStart;
    private uint currentCrc;

    public ZipStoreWriter(Stream stream)
    {
        if (!stream.CanSeek)
        {
            throw new ArgumentException("The zip writer needs a seekable stream.", nameof(stream));
        }
        this.stream = stream;
    }

    public void Add(string name, ReadOnlySpan<byte> data)
    {
        Begin(name);
        Append(data);
        End();
    }

    public void Begin(string name)
    {
        if (currentName is not null)
        {
            throw new InvalidOperationException($"Entry '{currentName}' is still open.");
        }
        currentName = name;
        currentLocal = stream.Position;
        currentCrc = 0;
        var nameBytes = Encoding.UTF8.GetBytes(name);
        // Local header: 30 bytes, name, then an extra field holding the zip64 sizes (patched later) and padding.
        int zip64Extra = 4 + 16;
        long unpadded = currentLocal + 30 + nameBytes.Length + zip64Extra + 4;
        int padding = (int)((Alignment - unpadded % Alignment) % Alignment);
        var header = new byte[30 + nameBytes.Length + zip64Extra + 4 + padding];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 45); // version needed: zip64
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(26), (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(28), (ushort)(zip64Extra + 4 + padding));
        nameBytes.CopyTo(header, 30);
        int extra = 30 + nameBytes.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(extra), 0x0001);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(extra + 2), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(extra + 20), 0x4246); // "FB": alignment padding, as PyTorch writes it
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(extra + 22), (ushort)padding);
        stream.Write(header);
        currentStart = stream.Position;
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        currentCrc = Crc32.Append(currentCrc, data);
        stream.Write(data);
    }

    public void End()
    {
        string name = currentName ?? throw new InvalidOperationException("No entry is open.");
        long size = stream.Position - currentStart;
        long end = stream.Position;
        // Patch CRC and sizes: the 32-bit fields (0xFFFFFFFF from 4 GB on) and the zip64 extra field.
        Span<byte> crc = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(crc, currentCrc);
        uint small = size >= 0xFFFFFFFF ? 0xFFFFFFFF : (uint)size;
        BinaryPrimitives.WriteUInt32LittleEndian(crc[4..], small);
        BinaryPrimitives.WriteUInt32LittleEndian(crc[8..], small);
        stream.Position = currentLocal + 14;
        stream.Write(crc);
        Span<byte> sizes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(sizes, (ulong)size);
        BinaryPrimitives.WriteUInt64LittleEndian(sizes[8..], (ulong)size);
        stream.Position = currentLocal + 30 + Encoding.UTF8.GetByteCount(name) + 4;
        stream.Write(sizes);
        stream.Position = end;
        written.Add((name, currentLocal, size, currentCrc));
        currentName = null;
    }

    /// <summary>Writes the central directory (and the zip64 end records when needed).</summary>
    public void Finish()
    {
        long directoryStart = stream.Position;
        foreach (var (name, local, size, crc) in written)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            bool big = size >= 0xFFFFFFFF || local >= 0xFFFFFFFF;
            int extraLength = big ? 4 + 24 : 0;
            var h = new byte[46 + nameBytes.Length + extraLength];
            BinaryPrimitives.WriteUInt32LittleEndian(h, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(4), 45);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(6), 45);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), crc);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(20), big ? 0xFFFFFFFF : (uint)size);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(24), big ? 0xFFFFFFFF : (uint)size);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(28), (ushort)nameBytes.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(30), (ushort)extraLength);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(42), big ? 0xFFFFFFFF : (uint)local);
            nameBytes.CopyTo(h, 46);
            if (big)
            {
                int e = 46 + nameBytes.Length;
                BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(e), 0x0001);
                BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(e + 2), 24);
                BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(e + 4), (ulong)size);
                BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(e + 12), (ulong)size);
                BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(e + 20), (ulong)local);
            }
            stream.Write(h);
        }
        long directoryEnd = stream.Position;
        long directorySize = directoryEnd - directoryStart;
        bool zip64 = directoryStart >= 0xFFFFFFFF || written.Count >= 0xFFFF;
        if (zip64)
        {
            var r = new byte[56 + 20];
            BinaryPrimitives.WriteUInt32LittleEndian(r, 0x06064b50);
            BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(4), 44);
            BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(12), 45);
            BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(14), 45);
            BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(24), (ulong)written.Count);
            BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(32), (ulong)written.Count);
            BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(40), (ulong)directorySize);
            BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(48), (ulong)directoryStart);
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(56), 0x07064b50);
            BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(64), (ulong)directoryEnd);
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(72), 1);
            stream.Write(r);
        }
        var end = new byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, 0x06054b50);
        ushort count = zip64 ? (ushort)0xFFFF : (ushort)written.Count;
        BinaryPrimitives.WriteUInt16LittleEndian(end.AsSpan(8), count);
        BinaryPrimitives.WriteUInt16LittleEndian(end.AsSpan(10), count);
        BinaryPrimitives.WriteUInt32LittleEndian(end.AsSpan(12), zip64 ? 0xFFFFFFFF : (uint)directorySize);
        BinaryPrimitives.WriteUInt32LittleEndian(end.AsSpan(16), zip64 ? 0xFFFFFFFF : (uint)directoryStart);
        stream.Write(end);
        stream.Flush();
    }
}
