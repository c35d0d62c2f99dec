namespace LatentIndigo.Invertible;

/// <summary>The options of an invertible network are out of range.</summary>
public sealed class InvalidInnOptionsException(string message) : LatentIndigoException(message);

/// <summary>A tensor given to an invertible network has the wrong rank, shape, dtype, device or values.</summary>
public sealed class InnInputException(string message) : LatentIndigoException(message);

/// <summary>A weights file does not match the network: missing, unexpected or mis-shaped keys, or an unreadable file.</summary>
public sealed class InnWeightsException : LatentIndigoException
{
    /// <summary>Creates the exception with a message.</summary>
    public InnWeightsException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public InnWeightsException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// A training was asked to resume from a checkpoint written with other settings, images or network: the result would
/// not be the bytes of one uninterrupted run. The message lists each difference and how to go on.
/// </summary>
public sealed class InnCheckpointMismatchException(string checkpointPath, IReadOnlyList<string> differences)
    : LatentIndigoException(
        $"The checkpoint '{checkpointPath}' was written by a training run with other settings, so resuming it with these would not give the weights of one uninterrupted run: {string.Join("; ", differences)}. " +
        "Resume with the original settings and images, or start over without --resume (the checkpoint is replaced) or with another --out.")
{
    /// <summary>Each difference ("options.Steps: 600 then, 900 now").</summary>
    public IReadOnlyList<string> Differences { get; } = differences;
}
