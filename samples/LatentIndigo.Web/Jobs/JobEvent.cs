namespace LatentIndigo.Web.Jobs;

/// <summary>
/// One Server-Sent Event of <c>GET /api/jobs/{id}/events</c>: its SSE event name (<see cref="Kind"/>) and JSON data.
/// </summary>
/// <param name="Kind"><c>queued</c>, <c>progress</c>, <c>done</c>, <c>failed</c> or <c>cancelled</c>.</param>
/// <param name="Data">The event's data, serialised as JSON.</param>
public sealed record JobEvent(string Kind, object Data)
{
    /// <summary>True for the last event of a job: done, failed or cancelled.</summary>
    public bool IsFinal => Kind is "done" or "failed" or "cancelled";
}

/// <summary>Data of a <c>queued</c> event.</summary>
/// <param name="QueuePosition">1 = the next job to start; 2 = one job waits before this one; ...</param>
/// <param name="Running">Restores running now.</param>
public sealed record QueuedData(int QueuePosition, int Running);

/// <summary>Data of a <c>progress</c> event (the pipeline's <see cref="LatentIndigo.Pipeline.RestoreProgress"/>).</summary>
/// <param name="Stage">Preparing, Encoding, Sampling, Decoding, BackProjecting (INN-only), Finishing or Completed.</param>
/// <param name="Step">The sampling step (or, BackProjecting, the INN pass) running, from 1; 0 when another stage starts.</param>
/// <param name="TotalSteps">Sampling steps per tile, or the back-projection's INN passes at most; 1 for stages without steps (never 0).</param>
/// <param name="Tile">Latent tile (or, BackProjecting, INN window) just done, from 1.</param>
/// <param name="TotalTiles">Latent tiles (or INN windows per pass).</param>
/// <param name="ElapsedSeconds">Seconds since the restore started running.</param>
public sealed record ProgressData(string Stage, int Step, int TotalSteps, int Tile, int TotalTiles, double ElapsedSeconds);

/// <summary>Data of a <c>failed</c> or <c>cancelled</c> event.</summary>
/// <param name="Message">What happened, in words (the library's message for a failure).</param>
public sealed record MessageData(string Message);
