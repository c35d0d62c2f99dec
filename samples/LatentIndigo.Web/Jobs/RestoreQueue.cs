using System.Diagnostics;
using LatentIndigo.Imaging;
using LatentIndigo.Pipeline;
using LatentIndigo.Web.Hosting;
using Microsoft.Extensions.Options;

namespace LatentIndigo.Web.Jobs;

/// <summary>
/// The line of jobs: first come, first served, <see cref="DemoSettings.MaxConcurrentRestores"/> running at once on the
/// shared pipeline (whose own limit is the same, so it never blocks), at most <see cref="DemoSettings.MaxQueuedJobs"/>
/// waiting. Every waiting job hears its position whenever the line moves.
/// </summary>
public sealed class RestoreQueue(PipelineHost host, JobStore store, IOptions<DemoSettings> options, TimeProvider time, ILogger<RestoreQueue> logger)
{
    private readonly DemoSettings settings = options.Value;
    private readonly LinkedList<RestoreJob> waiting = new();
    private readonly object gate = new();
    private int running;

    /// <summary>Restores running now.</summary>
    public int Running
    {
        get
        {
            lock (gate)
            {
                return running;
            }
        }
    }

    /// <summary>Jobs waiting now.</summary>
    public int Waiting
    {
        get
        {
            lock (gate)
            {
                return waiting.Count;
            }
        }
    }

    /// <summary>The limits uploads are checked against (the library's <see cref="ImageLoadOptions"/>).</summary>
    public ImageLoadOptions LoadOptions => new()
    {
        MaxFileBytes = settings.MaxUploadBytes,
        MaxPixels = (long)(settings.MaxInputMegapixels * 1_000_000),
    };

    /// <summary>Puts a job in line (and starts it when a slot is free); false when the line is full.</summary>
    public bool TryEnqueue(RestoreJob job)
    {
        lock (gate)
        {
            if (running >= settings.MaxConcurrentRestores && waiting.Count >= settings.MaxQueuedJobs)
            {
                return false;
            }
            waiting.AddLast(job);
            logger.LogInformation("Job {JobId} queued: {Width}x{Height}, {Strategy}, x{Scale}, {Steps} steps",
                job.Id, job.InputWidth, job.InputHeight, GuidanceStrategyNames.Name(job.Options.Strategy), job.Options.ScaleFactor, job.Options.Steps);
            Pump();
        }
        return true;
    }

    /// <summary>Cancels a job: a waiting one leaves the line at once, a running one stops at its next step.</summary>
    public void Cancel(RestoreJob job, string message)
    {
        lock (gate)
        {
            if (waiting.Remove(job))
            {
                job.FinishCancelled(message, time.GetUtcNow());
                logger.LogInformation("Job {JobId} cancelled while waiting: {Message}", job.Id, message);
                ReportPositions();
                return;
            }
        }
        job.RequestCancel(message);
    }

    // Under the lock: starts waiting jobs while slots are free, then tells the rest where they stand.
    private void Pump()
    {
        while (running < settings.MaxConcurrentRestores && waiting.First is { } first)
        {
            waiting.RemoveFirst();
            running++;
            first.Value.MarkRunning();
            _ = Task.Run(() => RunAsync(first.Value));
        }
        ReportPositions();
    }

    private void ReportPositions()
    {
        int position = 1;
        foreach (var job in waiting)
        {
            job.ReportQueued(position++, running);
        }
    }

    private async Task RunAsync(RestoreJob job)
    {
        using var activity = WebTelemetry.Source.StartActivity("RestoreJob", ActivityKind.Internal, job.RequestContext);
        activity?.SetTag("latentindigo.job.id", job.Id);
        activity?.SetTag("latentindigo.strategy", GuidanceStrategyNames.Name(job.Options.Strategy));
        logger.LogInformation("Job {JobId} started", job.Id);
        try
        {
            // Decoded only now, after the header checks of the request and the wait in line.
            using var input = ImageIO.Decode(job.TakeInput(), job.SourceName, LoadOptions);
            using var result = await host.Pipeline.RestoreAsync(input, job.Options, new JobProgress(job), job.CancellationToken);
            var png = ImageIO.Encode(result.Image, ImageFileFormat.Png);
            // Room first, then the result: when the client hears "done", older results are already gone.
            store.MakeRoom(job, png.Length);
            job.Complete(png, RestoreSummary.From(result, job.InputWidth, job.InputHeight), time.GetUtcNow());
            logger.LogInformation("Job {JobId} done in {Seconds:F2} s: {Width}x{Height}", job.Id, result.Total.TotalSeconds, result.Image.shape[3], result.Image.shape[2]);
        }
        catch (OperationCanceledException) when (job.CancellationToken.IsCancellationRequested)
        {
            string message = job.Message ?? "Cancelled.";
            job.FinishCancelled(message, time.GetUtcNow());
            activity?.SetStatus(ActivityStatusCode.Error, "cancelled");
            logger.LogInformation("Job {JobId} cancelled: {Message}", job.Id, message);
        }
        catch (LatentIndigoException ex)
        {
            // The library's messages say what was wrong and what to do: the client sees them as they are.
            job.Fail(ex.Message, time.GetUtcNow());
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            logger.LogWarning("Job {JobId} failed: {Message}", job.Id, ex.Message);
        }
        catch (Exception ex)
        {
            job.Fail($"The restore failed on the server ({ex.GetType().Name}); its log has the details.", time.GetUtcNow());
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            logger.LogError(ex, "Job {JobId} failed", job.Id);
        }
        finally
        {
            lock (gate)
            {
                running--;
                Pump();
            }
        }
    }

    /// <summary>Forwards the pipeline's progress to the job's subscribers, in order, on the restoring thread.</summary>
    private sealed class JobProgress(RestoreJob job) : IProgress<RestoreProgress>
    {
        public void Report(RestoreProgress value) => job.ReportProgress(value);
    }
}
