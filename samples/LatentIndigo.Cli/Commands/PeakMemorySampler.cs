namespace LatentIndigo.Cli.Commands;

/// <summary>
/// The peak resident memory (working set) of the process while it lives, sampled every 10 ms: the memory a restoration
/// needs on top of what is loaded, plus the loaded models themselves.
/// </summary>
internal sealed class PeakMemorySampler : IDisposable
{
    private readonly Timer timer;
    private long peak = Environment.WorkingSet;

    public PeakMemorySampler() => timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(10));

    /// <summary>The largest working set seen so far, in bytes.</summary>
    public long PeakBytes
    {
        get
        {
            Sample();
            return Interlocked.Read(ref peak);
        }
    }

    public void Dispose() => timer.Dispose();

    private void Sample()
    {
        long now = Environment.WorkingSet;
        long seen;
        while (now > (seen = Interlocked.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
        {
        }
    }
}
