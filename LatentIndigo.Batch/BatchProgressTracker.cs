using System.Diagnostics;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Batch;

/// <summary>
/// Turns the per-image progress events of concurrent restores into one <see cref="BatchProgress"/>: per-image ETA from
/// its own pace, overall ETA from the mean time of the images finished in this run, spread over the concurrency.
/// </summary>
internal sealed class BatchProgressTracker(int total, int done, int concurrency, int pending, IProgress<BatchProgress>? sink)
{
    private readonly object gate = new();
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Dictionary<long, (string Input, Stopwatch Clock, double Fraction)> running = new();
    private TimeSpan finishedTime;
    private int finishedCount;
    private int done = done;
    private int pending = pending;

    public int Restored { get; private set; }

    public int Failed { get; private set; }

    public IProgress<RestoreProgress> Start(long id, string input)
    {
        lock (gate)
        {
            running[id] = (input, Stopwatch.StartNew(), 0);
            pending--;
        }
        Publish();
        return new ImageProgress(this, id);
    }

    public void Finish(long id, TimeSpan time, bool failed)
    {
        lock (gate)
        {
            running.Remove(id);
            finishedTime += time;
            finishedCount++;
            if (failed)
            {
                Failed++;
            }
            else
            {
                Restored++;
                done++;
            }
        }
        Publish();
    }

    public void Cancel(long id)
    {
        lock (gate)
        {
            running.Remove(id);
            pending++;
        }
    }

    private void Update(long id, double fraction)
    {
        lock (gate)
        {
            if (running.TryGetValue(id, out var r))
            {
                running[id] = (r.Input, r.Clock, fraction);
            }
        }
        Publish();
    }

    private void Publish()
    {
        if (sink is null)
        {
            return;
        }
        BatchProgress snapshot;
        lock (gate)
        {
            TimeSpan? mean = finishedCount > 0 ? finishedTime / finishedCount : null;
            var images = running.Values.Select(r =>
            {
                var elapsed = r.Clock.Elapsed;
                // Below 5 % the pace says little (model warm-up, the first encode).
                TimeSpan? left = r.Fraction >= 0.05 ? elapsed * ((1 - r.Fraction) / r.Fraction) : mean is { } m ? Max(m - elapsed, TimeSpan.Zero) : null;
                return new BatchImageProgress(r.Input, r.Fraction, elapsed, left);
            }).ToList();
            TimeSpan? remaining = null;
            if (mean is { } perImage)
            {
                var runningLeft = images.Aggregate(TimeSpan.Zero, (sum, i) => sum + (i.Remaining ?? perImage));
                remaining = (perImage * pending + runningLeft) / concurrency;
            }
            snapshot = new BatchProgress(total, done, Failed, clock.Elapsed, remaining, images);
        }
        sink.Report(snapshot);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed class ImageProgress(BatchProgressTracker tracker, long id) : IProgress<RestoreProgress>
    {
        public void Report(RestoreProgress value) => tracker.Update(id, BatchImageProcessor.Fraction(value));
    }
}
