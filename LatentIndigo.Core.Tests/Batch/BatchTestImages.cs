using LatentIndigo.Batch;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Batch;

/// <summary>Small test collections and a fast restorer for the batch tests.</summary>
internal static class BatchTestImages
{
    /// <summary>Writes <paramref name="count"/> PNGs of seeded random pixels (<c>img0.png</c>, ...) into <paramref name="folder"/>.</summary>
    public static string Write(string folder, int count, int width = 12, int height = 10, int seed = 1)
    {
        Directory.CreateDirectory(folder);
        var generator = new torch.Generator((ulong)seed);
        for (int i = 0; i < count; i++)
        {
            using var image = torch.rand(new long[] { 1, 3, height, width }, generator: generator);
            ImageIO.Save(image, Path.Combine(folder, $"img{i}.png"));
        }
        return folder;
    }
}

/// <summary>
/// A restorer without models for the journal logic: nearest-neighbour upscaling (deterministic, fast), with a hook that
/// runs before each restore (to fail, block or cancel a chosen call) and a count of calls.
/// </summary>
internal sealed class NearestRestorer(int concurrency = 1, Func<int, CancellationToken, Task>? beforeRestore = null) : IBatchRestorer
{
    private int calls;

    public int Concurrency => concurrency;

    public int Calls => Volatile.Read(ref calls);

    public async Task<RestoreResult> RestoreAsync(Tensor lowQuality, RestoreOptions options, IProgress<RestoreProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        int call = Interlocked.Increment(ref calls);
        if (beforeRestore is not null)
        {
            await beforeRestore(call, cancellationToken);
        }
        progress?.Report(new RestoreProgress(RestoreStage.Sampling, 1, 2, 0, 1, TimeSpan.Zero, 0));
        var upscaled = torch.nn.functional.interpolate(lowQuality, scale_factor: [options.ScaleFactor, options.ScaleFactor], mode: InterpolationMode.Nearest);
        progress?.Report(new RestoreProgress(RestoreStage.Completed, 2, 2, 0, 1, TimeSpan.Zero, 0));
        return new RestoreResult(upscaled) { Total = TimeSpan.FromMilliseconds(1), CoarsePsnr = 40 };
    }
}
