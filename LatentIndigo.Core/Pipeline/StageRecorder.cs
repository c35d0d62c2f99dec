using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace LatentIndigo.Pipeline;

/// <summary>
/// The one timing mechanism of a restore: each stage runs through <see cref="Run{T}"/>, which opens an
/// <see cref="Activity"/> on <see cref="RestorationPipeline.ActivitySourceName"/> (for tracing tools), reports the stage
/// to the caller's progress, checks cancellation, and books the stage's wall time for <see cref="RestoreResult.StageTimes"/>.
/// </summary>
internal sealed class StageRecorder
{
    private static readonly ActivitySource Source = new(RestorationPipeline.ActivitySourceName, LibraryInfo.Version);

    private readonly Dictionary<RestoreStage, TimeSpan> times = new();
    private readonly long started = Stopwatch.GetTimestamp();
    private readonly IProgress<RestoreProgress>? progress;
    private readonly ILogger logger;
    private readonly CancellationToken cancellationToken;
    private long stageStarted;

    public StageRecorder(IProgress<RestoreProgress>? progress, ILogger logger, CancellationToken cancellationToken)
    {
        this.progress = progress;
        this.logger = logger;
        this.cancellationToken = cancellationToken;
    }

    /// <summary>Time since the restore started.</summary>
    public TimeSpan Total => Stopwatch.GetElapsedTime(started);

    /// <summary>Wall time of each stage run so far.</summary>
    public IReadOnlyDictionary<RestoreStage, TimeSpan> StageTimes => new Dictionary<RestoreStage, TimeSpan>(times);

    /// <summary>Runs one named stage.</summary>
    public T Run<T>(RestoreStage stage, Func<T> body)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var activity = Source.StartActivity(stage.ToString());
        stageStarted = Stopwatch.GetTimestamp();
        if (stage != RestoreStage.Sampling)
        {
            // A stage without steps of its own counts as one step (0 of 1 done), so that Step/TotalSteps is defined.
            progress?.Report(new RestoreProgress(stage, 0, StepsOf(stage), 0, 1, Total, 0));
        }
        try
        {
            return body();
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(stageStarted);
            times[stage] = times.GetValueOrDefault(stage) + elapsed;
            logger.LogDebug("Stage {Stage} took {Seconds:F3} s.", stage, elapsed.TotalSeconds);
        }
    }

    /// <summary>Reports the end of the restore to the progress (no time is booked for it): step 1 of 1.</summary>
    public void Completed() => progress?.Report(new RestoreProgress(RestoreStage.Completed, 1, 1, 0, 1, Total, 0));

    /// <summary>The back-projection's total INN passes, known before its stage starts; 1 for other stages without steps.</summary>
    public int BackProjectionPasses { get; set; } = 1;

    private int StepsOf(RestoreStage stage) => stage == RestoreStage.BackProjecting ? Math.Max(1, BackProjectionPasses) : 1;

    /// <summary>
    /// Reports back-projection progress: INN pass <paramref name="pass"/> (1-based) of <paramref name="passes"/>, window
    /// <paramref name="window"/> of <paramref name="windows"/> done; the rate counts windows per second of the stage.
    /// </summary>
    public void BackProjectionProgress(int pass, int passes, int window, int windows)
    {
        if (progress is null)
        {
            return;
        }
        var elapsed = Stopwatch.GetElapsedTime(stageStarted);
        int done = (pass - 1) * windows + window;
        double rate = elapsed > TimeSpan.Zero ? done / elapsed.TotalSeconds : 0;
        // Tile is the index of the window just done, as in sampling (0-based).
        progress.Report(new RestoreProgress(RestoreStage.BackProjecting, pass, passes, window - 1, windows, Total, rate));
    }

    /// <summary>Reports sampling progress: a tile of a step is done; the rate counts tile-steps per second of sampling.</summary>
    public void SamplingProgress(int step, int steps, int tile, int tiles)
    {
        if (progress is null)
        {
            return;
        }
        var sampling = Stopwatch.GetElapsedTime(stageStarted);
        int iterations = (step - 1) * tiles + tile + 1;
        double rate = sampling > TimeSpan.Zero ? iterations / sampling.TotalSeconds : 0;
        progress.Report(new RestoreProgress(RestoreStage.Sampling, step, steps, tile, tiles, Total, rate));
    }
}
