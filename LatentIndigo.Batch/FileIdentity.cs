using System.Security.Cryptography;

namespace LatentIndigo.Batch;

/// <summary>A file's content identity as the journal records it: its size and SHA-256 (lower-case hex).</summary>
internal sealed record FileIdentity(long Size, string Sha256)
{
    /// <summary>The identity of bytes already read.</summary>
    public static FileIdentity Of(byte[] bytes) => new(bytes.LongLength, Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant());

    /// <summary>The identity of a file now, or null when it cannot be read (the restore will say why).</summary>
    public static FileIdentity? OfFile(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return new FileIdentity(stream.Length, Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>"1,234 bytes, sha256 0123456789ab…" for messages.</summary>
    public override string ToString() => $"{Size:N0} bytes, SHA-256 {Sha256[..12]}…";
}
