using System.Buffers.Binary;
using LatentIndigo.Weights.Torch;

namespace LatentIndigo.Weights;

/// <summary>Opens a weight file by its content, whatever its extension: safetensors, or a PyTorch zip checkpoint.</summary>
internal static class WeightFile
{
    /// <summary>
    /// Opens <paramref name="path"/>: a zip archive (<c>PK</c>) is read as a torch.save checkpoint (<c>.bin</c>,
    /// <c>.ckpt</c>, <c>.pt</c>, <c>.pth</c>); a file starting with an 8-byte length followed by <c>{</c> as safetensors.
    /// Legacy (pre-1.6) PyTorch files, which are bare pickles, are refused with a message saying how to re-save them.
    /// </summary>
    /// <exception cref="WeightFileException">Missing, unreadable, of an unknown format, or damaged.</exception>
    public static IWeightSource Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new WeightFileException(Directory.Exists(path)
                ? $"'{path}' is a folder, not a weight file."
                : $"Weight file '{path}' does not exist.");
        }
        Span<byte> head = stackalloc byte[9];
        int read;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new WeightFileException($"Weight file '{path}' cannot be read: {ex.Message}", ex);
        }
        try
        {
            return Detect(head[..read]) switch
            {
                Format.TorchZip => TorchCheckpoint.Open(path),
                Format.Safetensors => SafetensorsFile.Open(path),
                Format.LegacyTorch => throw new WeightFileException(
                    $"'{path}' is a PyTorch file in the legacy format (before PyTorch 1.6), which is not read. Re-save it in Python: "
                    + "torch.save(torch.load(path), new_path) writes the zip format, or save it as safetensors."),
                _ => throw new WeightFileException(
                    $"'{path}' is neither a safetensors file nor a PyTorch checkpoint (torch.save zip format): its first bytes are {Convert.ToHexString(head[..read])}."),
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new WeightFileException($"Weight file '{path}' cannot be read: {ex.Message}", ex);
        }
    }

    private enum Format { Unknown, Safetensors, TorchZip, LegacyTorch }

    private static Format Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4)
        {
            return Format.TorchZip;
        }
        if (head.Length >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5)
        {
            return Format.LegacyTorch; // a bare pickle: PROTO opcode first
        }
        if (head.Length >= 8)
        {
            // A plausible header length; the header itself (validated by SafetensorsFile) starts with '{' — or the
            // file is too short to have one, which SafetensorsFile reports as truncated.
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(head);
            if (length > 1 && length <= SafetensorsFile.MaxHeaderBytes && (head.Length < 9 || head[8] == (byte)'{'))
            {
                return Format.Safetensors;
            }
            if (length > SafetensorsFile.MaxHeaderBytes && length < 1UL << 40)
            {
                return Format.Safetensors; // let the reader say "oversized header"
            }
        }
        return Format.Unknown;
    }
}
