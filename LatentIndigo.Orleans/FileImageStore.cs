using System.Security.Cryptography;

namespace LatentIndigo.Orleans;

/// <summary>An <see cref="IImageStore"/> over <c>file://</c> URIs: a shared folder that every silo mounts at the same path.</summary>
public sealed class FileImageStore : IImageStore
{
    /// <inheritdoc />
    public async Task<byte[]> ReadAsync(Uri uri, CancellationToken cancellationToken = default) =>
        await File.ReadAllBytesAsync(LocalPath(uri), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<bool> WriteAsync(Uri uri, byte[] bytes, CancellationToken cancellationToken = default)
    {
        string path = LocalPath(uri);
        if (File.Exists(path))
        {
            var existing = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            if (SHA256.HashData(existing).AsSpan().SequenceEqual(SHA256.HashData(bytes)))
            {
                return false;
            }
            throw new IOException($"'{path}' exists with other bytes: it is not this job's output (or the restoration is not deterministic); it is left as it is.");
        }
        // The library's atomic write: a temporary name beside the target that fits in 255 bytes and is recognised
        // exactly (AtomicFile.IsTemporaryFor), flushed to the disk before the rename. Two workers finishing one image
        // write the same bytes: whichever rename lands last replaces identical content.
        cancellationToken.ThrowIfCancellationRequested();
        AtomicFile.WriteAllBytes(path, bytes);
        return true;
    }

    private static string LocalPath(Uri uri)
    {
        if (!uri.IsFile)
        {
            throw new NotSupportedException($"FileImageStore serves file:// URIs only; '{uri}' needs another IImageStore.");
        }
        return uri.LocalPath;
    }
}
