namespace LatentIndigo.Batch;

/// <summary>The inputs of a batch are wrong: a missing folder, an empty folder, a bad manifest line, two outputs of one name.</summary>
public sealed class BatchInputException(string message) : LatentIndigoException(message);

/// <summary>
/// A resume was asked for with settings, models or inputs that differ from the ones the job was started with: the
/// outputs would no longer belong to one run. The message lists each difference.
/// </summary>
public sealed class BatchSettingsMismatchException(string outputFolder, IReadOnlyList<string> differences)
    : LatentIndigoException(
        $"The batch in '{outputFolder}' was started with other settings, so it cannot be resumed with these: {string.Join("; ", differences)}. " +
        "Resume with the original settings, or start a new job in another output folder.")
{
    /// <summary>Each difference, one line each ("steps: 50 then, 30 now").</summary>
    public IReadOnlyList<string> Differences { get; } = differences;
}

/// <summary>The batch journal cannot be used: another process runs the job, the journal is damaged or unwritable, or it exists when a new job is asked for.</summary>
public sealed class BatchJournalException(string message, Exception? inner = null) : LatentIndigoException(message, inner);

/// <summary>
/// The job stopped before its end because every later image would fail the same way (no space left on the device).
/// The images not done are pending in the journal: resume the job once the cause is fixed.
/// </summary>
public sealed class BatchStoppedException(string message, Exception? inner = null) : LatentIndigoException(message, inner);
