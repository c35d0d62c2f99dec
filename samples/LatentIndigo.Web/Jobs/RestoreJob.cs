using System.Diagnostics;
using System.Threading.Channels;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Web.Jobs;

/// <summary>
/// One restore request: its validated input bytes and options, its state, its progress events for any number of
/// subscribers, and finally its result PNG and figures. Thread-safe; every change goes through one lock.
/// </summary>
public sealed class RestoreJob
{
    private readonly object gate = new();
    private readonly List<Channel<JobEvent>> subscribers = [];
    private readonly CancellationTokenSource cancellation = new();
    private byte[]? input;
    private JobEvent current;

    // Every event so far (at most HistoryLimit, the oldest progress events dropped first), so that a subscriber that
    // connects late — the page opens its event stream only after the POST returns, by when a small job may be done —
    // still sees how the job went, not only how it ended.
    private const int HistoryLimit = 256;
    private readonly List<JobEvent> history = [];

    /// <summary>Creates a queued job.</summary>
    public RestoreJob(string id, byte[] input, int inputWidth, int inputHeight, string sourceName, RestoreOptions options,
        DateTimeOffset created, ActivityContext requestContext)
    {
        Id = id;
        this.input = input;
        InputWidth = inputWidth;
        InputHeight = inputHeight;
        SourceName = sourceName;
        Options = options;
        Created = created;
        RequestContext = requestContext;
        current = new JobEvent("queued", new QueuedData(0, 0));
    }

    /// <summary>The job's id: random, unguessable (128 bits), never a file name.</summary>
    public string Id { get; }

    /// <summary>Stored input width in pixels.</summary>
    public int InputWidth { get; }

    /// <summary>Stored input height in pixels.</summary>
    public int InputHeight { get; }

    /// <summary>What messages call the input (the upload's sanitised name); never used as a path.</summary>
    public string SourceName { get; }

    /// <summary>The validated options.</summary>
    public RestoreOptions Options { get; }

    /// <summary>When the job was accepted.</summary>
    public DateTimeOffset Created { get; }

    /// <summary>When the job finished (done, failed or cancelled); null before.</summary>
    public DateTimeOffset? Finished { get; private set; }

    /// <summary>The trace context of the request that created the job: the job's activity continues its trace.</summary>
    public ActivityContext RequestContext { get; }

    /// <summary>The state.</summary>
    public JobState State { get; private set; }

    /// <summary>The result PNG (state Done), until the job is removed.</summary>
    public byte[]? Result { get; private set; }

    /// <summary>The figures of the result (state Done).</summary>
    public RestoreSummary? Summary { get; private set; }

    /// <summary>Why it failed or was cancelled.</summary>
    public string? Message { get; private set; }

    /// <summary>True once done, failed or cancelled.</summary>
    public bool IsFinished => State is JobState.Done or JobState.Failed or JobState.Cancelled;

    /// <summary>Cancelled by <see cref="RequestCancel"/>.</summary>
    public CancellationToken CancellationToken => cancellation.Token;

    /// <summary>Event subscribers connected now.</summary>
    public int SubscriberCount
    {
        get
        {
            lock (gate)
            {
                return subscribers.Count;
            }
        }
    }

    /// <summary>The latest event.</summary>
    public JobEvent Current
    {
        get
        {
            lock (gate)
            {
                return current;
            }
        }
    }

    /// <summary>
    /// Subscribes to the job's events: those so far (the last 256 at most), then every later one until the final one.
    /// Progress events may be dropped for a slow reader (the oldest first); the final event never is.
    /// </summary>
    public ChannelReader<JobEvent> Subscribe(out Action unsubscribe)
    {
        var channel = Channel.CreateBounded<JobEvent>(new BoundedChannelOptions(HistoryLimit) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (gate)
        {
            // Before the queue has placed the job, its only event is the initial placeholder.
            foreach (var e in history.Count == 0 ? [current] : history)
            {
                channel.Writer.TryWrite(e);
            }
            if (IsFinished)
            {
                channel.Writer.TryComplete();
            }
            else
            {
                subscribers.Add(channel);
            }
        }
        unsubscribe = () =>
        {
            lock (gate)
            {
                subscribers.Remove(channel);
            }
        };
        return channel.Reader;
    }

    /// <summary>Hands the input bytes to the runner once (they are not kept while the job runs).</summary>
    internal byte[] TakeInput()
    {
        lock (gate)
        {
            var bytes = input ?? throw new InvalidOperationException($"Job {Id} has already started.");
            input = null;
            return bytes;
        }
    }

    /// <summary>Publishes the position in line (1 = next).</summary>
    internal void ReportQueued(int position, int running) => Publish(new JobEvent("queued", new QueuedData(position, running)), JobState.Queued);

    /// <summary>Marks the job running.</summary>
    internal void MarkRunning() =>
        Publish(new JobEvent("progress", new ProgressData(RestoreStage.Preparing.ToString(), 0, 1, 1, 1, 0)), JobState.Running);

    /// <summary>Publishes a pipeline progress event.</summary>
    internal void ReportProgress(RestoreProgress p) => Publish(new JobEvent("progress",
        new ProgressData(p.Stage.ToString(), p.Step, p.TotalSteps, p.Tile + 1, Math.Max(1, p.TotalTiles), Math.Round(p.Elapsed.TotalSeconds, 3))), JobState.Running);

    /// <summary>Finishes with a result.</summary>
    internal void Complete(byte[] png, RestoreSummary summary, DateTimeOffset now)
    {
        lock (gate)
        {
            Result = png;
            Summary = summary;
        }
        Finish(JobState.Done, new JobEvent("done", summary), now, null);
    }

    /// <summary>Finishes with a failure message.</summary>
    internal void Fail(string message, DateTimeOffset now) => Finish(JobState.Failed, new JobEvent("failed", new MessageData(message)), now, message);

    /// <summary>Finishes as cancelled.</summary>
    internal void FinishCancelled(string message, DateTimeOffset now) => Finish(JobState.Cancelled, new JobEvent("cancelled", new MessageData(message)), now, message);

    /// <summary>Asks the running restore to stop; the message is what the final event will say.</summary>
    internal void RequestCancel(string message)
    {
        lock (gate)
        {
            if (IsFinished)
            {
                return;
            }
            Message ??= message;
        }
        cancellation.Cancel();
    }

    /// <summary>Drops the result (when the job expires or is deleted), so its memory can be reclaimed.</summary>
    internal void DropResult()
    {
        lock (gate)
        {
            Result = null;
            input = null;
        }
    }

    private void Publish(JobEvent e, JobState state)
    {
        lock (gate)
        {
            if (IsFinished)
            {
                return;
            }
            State = state;
            Remember(e);
            foreach (var s in subscribers)
            {
                s.Writer.TryWrite(e);
            }
        }
    }

    private void Finish(JobState state, JobEvent e, DateTimeOffset now, string? message)
    {
        lock (gate)
        {
            if (IsFinished)
            {
                return;
            }
            State = state;
            Message = message;
            Finished = now;
            Remember(e);
            input = null;
            foreach (var s in subscribers)
            {
                s.Writer.TryWrite(e);
                s.Writer.TryComplete();
            }
            subscribers.Clear();
        }
    }

    // Under the gate.
    private void Remember(JobEvent e)
    {
        current = e;
        if (history.Count == HistoryLimit)
        {
            history.RemoveAt(0);
        }
        history.Add(e);
    }
}
