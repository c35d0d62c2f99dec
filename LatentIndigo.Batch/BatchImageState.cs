namespace LatentIndigo.Batch;

/// <summary>Where an image of a batch stands, as the journal records it.</summary>
public enum BatchImageState
{
    /// <summary>Not restored yet (also an image that was running when the job stopped).</summary>
    Pending,

    /// <summary>Being restored now.</summary>
    Running,

    /// <summary>Restored: the output is written and its hash recorded.</summary>
    Done,

    /// <summary>Failed with a recorded message; the job went on. A resume tries it again unless told not to.</summary>
    Failed,
}
