namespace LatentIndigo.Orleans;

/// <summary>
/// Where a cluster job's images live, addressed by URI. <see cref="FileImageStore"/> serves <c>file://</c> URIs (a
/// folder every silo mounts); a blob store implements the same three operations.
/// </summary>
public interface IImageStore
{
    /// <summary>Reads an image's bytes.</summary>
    Task<byte[]> ReadAsync(Uri uri, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes an output atomically and idempotently: when the same bytes are there already, nothing is written (an image
    /// restored twice after a failover yields one output). Returns false in that case.
    /// </summary>
    /// <exception cref="IOException">Different bytes are there already: never overwritten.</exception>
    Task<bool> WriteAsync(Uri uri, byte[] bytes, CancellationToken cancellationToken = default);
}
