namespace LatentIndigo.Web.Jobs;

/// <summary>Where a restore job is.</summary>
public enum JobState
{
    /// <summary>Waiting in line for a free restore slot.</summary>
    Queued,
    /// <summary>Restoring.</summary>
    Running,
    /// <summary>Finished; the result PNG is kept until it expires.</summary>
    Done,
    /// <summary>Failed; the message says why.</summary>
    Failed,
    /// <summary>Cancelled (DELETE, the client went away, or the server stopped).</summary>
    Cancelled,
}
