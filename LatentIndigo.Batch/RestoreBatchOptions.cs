using Microsoft.Extensions.Logging;

namespace LatentIndigo.Batch;

/// <summary>How a <see cref="RestoreBatch"/> is opened.</summary>
public sealed record RestoreBatchOptions
{
    /// <summary>
    /// What the restorer restores with (model folder, INN names), in the caller's words. Journaled with the restore
    /// settings: a resume with another description is refused, since its outputs would come from other models.
    /// </summary>
    public string Models { get; init; } = "";

    /// <summary>Replace output files that exist when the job is created (never inputs). Default false: such a job is refused.</summary>
    public bool Overwrite { get; init; }

    /// <summary>On resume, try failed images again (default true); false leaves them failed.</summary>
    public bool RetryFailed { get; init; } = true;

    /// <summary>Optional logger: one line per image at Information, failures at Warning.</summary>
    public ILogger? Logger { get; init; }
}
