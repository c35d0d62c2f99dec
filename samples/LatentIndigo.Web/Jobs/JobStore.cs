using System.Collections.Concurrent;
using LatentIndigo.Web.Hosting;
using Microsoft.Extensions.Options;

namespace LatentIndigo.Web.Jobs;

/// <summary>
/// The jobs the server remembers, bounded: at most <see cref="DemoSettings.MaxJobs"/> jobs and
/// <see cref="DemoSettings.MaxStoredResultBytes"/> bytes of result PNGs (the oldest finished jobs go first), and a
/// finished job is forgotten <see cref="DemoSettings.ResultLifetimeSeconds"/> after it finished. Results live in memory
/// only: nothing is written to disk.
/// </summary>
public sealed class JobStore(IOptions<DemoSettings> options, TimeProvider time, ILogger<JobStore> logger)
{
    private readonly DemoSettings settings = options.Value;
    private readonly ConcurrentDictionary<string, RestoreJob> jobs = new(StringComparer.Ordinal);
    private readonly object gate = new();

    /// <summary>Jobs remembered now.</summary>
    public int Count => jobs.Count;

    /// <summary>Bytes of result PNGs held now.</summary>
    public long StoredResultBytes
    {
        get
        {
            lock (gate)
            {
                return jobs.Values.Sum(j => (long)(j.Result?.Length ?? 0));
            }
        }
    }

    /// <summary>Adds a new job; false when the store is full of unfinished jobs (the caller refuses the request).</summary>
    public bool TryAdd(RestoreJob job)
    {
        lock (gate)
        {
            Expire();
            while (jobs.Count >= settings.MaxJobs && RemoveOldestFinished())
            {
            }
            return jobs.Count < settings.MaxJobs && jobs.TryAdd(job.Id, job);
        }
    }

    /// <summary>The job of an id, or null (never existed, expired or deleted). Expiry is exact: a job past its lifetime
    /// is gone even before the next sweep of <see cref="JobExpiryService"/>.</summary>
    public RestoreJob? Find(string id)
    {
        if (!jobs.TryGetValue(id, out var job))
        {
            return null;
        }
        if (job.Finished is { } finished && finished < time.GetUtcNow() - TimeSpan.FromSeconds(settings.ResultLifetimeSeconds))
        {
            Remove(job);
            return null;
        }
        return job;
    }

    /// <summary>Forgets a job and drops its result.</summary>
    public void Remove(RestoreJob job)
    {
        if (jobs.TryRemove(job.Id, out _))
        {
            job.DropResult();
        }
    }

    /// <summary>
    /// Makes room for a result of <paramref name="bytes"/> about to be stored by <paramref name="job"/>: drops the oldest
    /// finished results while the total would exceed the budget (the newest result is always kept).
    /// </summary>
    public void MakeRoom(RestoreJob job, long bytes)
    {
        lock (gate)
        {
            long total = jobs.Values.Sum(j => (long)(j.Result?.Length ?? 0)) + bytes;
            while (total > settings.MaxStoredResultBytes)
            {
                var oldest = jobs.Values.Where(j => j.IsFinished && j.Result is not null && j != job).MinBy(j => j.Finished);
                if (oldest is null)
                {
                    break;
                }
                total -= oldest.Result?.Length ?? 0;
                logger.LogInformation("Job {JobId} dropped: results over {Bytes} bytes", oldest.Id, settings.MaxStoredResultBytes);
                Remove(oldest);
            }
        }
    }

    /// <summary>Forgets finished jobs older than the result lifetime; returns how many.</summary>
    public int Expire()
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromSeconds(settings.ResultLifetimeSeconds);
        int removed = 0;
        foreach (var job in jobs.Values.Where(j => j.Finished is { } f && f < cutoff).ToList())
        {
            Remove(job);
            removed++;
        }
        if (removed > 0)
        {
            logger.LogDebug("{Count} finished job(s) expired", removed);
        }
        return removed;
    }

    private bool RemoveOldestFinished()
    {
        var oldest = jobs.Values.Where(j => j.IsFinished).MinBy(j => j.Finished);
        if (oldest is null)
        {
            return false;
        }
        Remove(oldest);
        return true;
    }
}
