using System.Buffers.Binary;
using System.Text;

namespace LatentIndigo.Weights.Torch;

/// <summary>One member of a zip archive: where its bytes start in the file and how they are stored.</summary>
internal sealed record ZipEntry(string Name, long DataOffset, long CompressedSize, long Size, int Method)
{
    /// <summary>Method 0: the bytes are stored as they are (torch.save stores every entry so).</summary>
    public bool IsStored => Method == 0;
}

/// <summary>
/// Reads a zip archive's central directory (with zip64 records, which torch.save writes for checkpoints above 4 GB)
/// from a mapped file, so each member's data can be read in place. A minimal reader: one disk, no encryption.
/// </summary>
internal static class ZipDirectory
{
    private const uint EndOfCentralDirectorySignature = 0x06054b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint LocalHeaderSignature = 0x04034b50;

    public static Dictionary<string, ZipEntry> Read(MappedFile file)
    {
        string path = file.Path;
        long eocd = FindEndOfCentralDirectory(file);
        var record = file.Span(eocd, 22);
        long entryCount = BinaryPrimitives.ReadUInt16LittleEndian(record[10..]);
        long directorySize = BinaryPrimitives.ReadUInt32LittleEndian(record[12..]);
        long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(record[16..]);
        if (entryCount == 0xFFFF || directorySize == 0xFFFFFFFF || directoryOffset == 0xFFFFFFFF)
        {
            if (eocd < 20 || BinaryPrimitives.ReadUInt32LittleEndian(file.Span(eocd - 20, 4)) != Zip64LocatorSignature)
            {
                throw Damaged(path, "the zip64 end-of-directory locator is missing");
            }
            long zip64 = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.Span(eocd - 20 + 8, 8));
            if (zip64 < 0 || zip64 > file.Length - 56 || BinaryPrimitives.ReadUInt32LittleEndian(file.Span(zip64, 4)) != Zip64EndSignature)
            {
                throw Damaged(path, "the zip64 end-of-directory record is missing");
            }
            var r64 = file.Span(zip64, 56);
            entryCount = (long)BinaryPrimitives.ReadUInt64LittleEndian(r64[32..]);
            directorySize = (long)BinaryPrimitives.ReadUInt64LittleEndian(r64[40..]);
            directoryOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(r64[48..]);
        }
        if (directoryOffset < 0 || directorySize < 0 || directoryOffset > file.Length - directorySize)
        {
            throw Damaged(path, "the central directory lies outside the file");
        }
        var entries = new Dictionary<string, ZipEntry>(StringComparer.Ordinal);
        long position = directoryOffset;
        for (long i = 0; i < entryCount; i++)
        {
            if (position > file.Length - 46 || BinaryPrimitives.ReadUInt32LittleEndian(file.Span(position, 4)) != CentralHeaderSignature)
            {
                throw Damaged(path, $"central directory entry {i} is damaged");
            }
            var h = file.Span(position, 46);
            int flags = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
            int method = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(h[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(h[32..]);
            long localOffset = BinaryPrimitives.ReadUInt32LittleEndian(h[42..]);
            if (position + 46 + nameLength + extraLength > file.Length)
            {
                throw Damaged(path, $"central directory entry {i} runs past the end of the file");
            }
            string name = Encoding.UTF8.GetString(file.Span(position + 46, nameLength));
            ReadZip64Extra(file.Span(position + 46 + nameLength, extraLength), ref size, ref compressed, ref localOffset);
            if ((flags & 1) != 0)
            {
                throw new WeightFileException($"'{path}': zip entry '{name}' is encrypted; PyTorch checkpoints never are.");
            }
            if (localOffset < 0 || localOffset > file.Length - 30 || BinaryPrimitives.ReadUInt32LittleEndian(file.Span(localOffset, 4)) != LocalHeaderSignature)
            {
                throw Damaged(path, $"the local header of '{name}' is missing");
            }
            var local = file.Span(localOffset, 30);
            long dataOffset = localOffset + 30 + BinaryPrimitives.ReadUInt16LittleEndian(local[26..]) + BinaryPrimitives.ReadUInt16LittleEndian(local[28..]);
            if (compressed < 0 || dataOffset > file.Length - compressed)
            {
                throw new WeightFileException($"'{path}' is truncated: zip entry '{name}' ({compressed:N0} bytes at {dataOffset:N0}) runs past the end of the file ({file.Length:N0} bytes).");
            }
            entries[name] = new ZipEntry(name, dataOffset, compressed, size, method);
            position += 46 + nameLength + extraLength + commentLength;
        }
        return entries;
    }

    private static long FindEndOfCentralDirectory(MappedFile file)
    {
        // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end of the file.
        long lowest = Math.Max(0, file.Length - 22 - 0xFFFF);
        for (long p = file.Length - 22; p >= lowest; p--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(file.Span(p, 4)) == EndOfCentralDirectorySignature)
            {
                return p;
            }
        }
        throw new WeightFileException($"'{file.Path}' starts like a zip archive but has no zip directory at its end: the file is truncated (an interrupted download?). Download or save it again.");
    }

    private static void ReadZip64Extra(ReadOnlySpan<byte> extra, ref long size, ref long compressed, ref long localOffset)
    {
        while (extra.Length >= 4)
        {
            int id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            var data = extra.Slice(4, Math.Min(length, extra.Length - 4));
            if (id == 0x0001)
            {
                int at = 0;
                if (size == 0xFFFFFFFF && at + 8 <= data.Length) { size = (long)BinaryPrimitives.ReadUInt64LittleEndian(data[at..]); at += 8; }
                if (compressed == 0xFFFFFFFF && at + 8 <= data.Length) { compressed = (long)BinaryPrimitives.ReadUInt64LittleEndian(data[at..]); at += 8; }
                if (localOffset == 0xFFFFFFFF && at + 8 <= data.Length) { localOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(data[at..]); }
                return;
            }
            extra = extra[Math.Min(extra.Length, 4 + length)..];
        }
    }

    private static WeightFileException Damaged(string path, string what) =>
        new($"'{path}' is a damaged zip archive ({what}): download or save the checkpoint again.");
}
