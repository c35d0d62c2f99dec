namespace LatentIndigo.Orleans.Tests;

/// <summary>
/// A <see cref="FileImageStore"/> whose reads take at least <paramref name="delay"/>: with stand-in models an image can
/// take a fraction of a second, so one worker could finish a small job before another polls; the delay keeps each
/// image long enough in hand that every worker gets some.
/// </summary>
internal sealed class DelayedImageStore(TimeSpan delay) : IImageStore
{
    private readonly FileImageStore files = new();

    public async Task<byte[]> ReadAsync(Uri uri, CancellationToken cancellationToken = default)
    {
        await Task.Delay(delay, cancellationToken);
        return await files.ReadAsync(uri, cancellationToken);
    }

    public Task<bool> WriteAsync(Uri uri, byte[] bytes, CancellationToken cancellationToken = default) => files.WriteAsync(uri, bytes, cancellationToken);
}
