namespace LatentIndigo.Degradations;

/// <summary>
/// A degradation was given something it cannot work with: a tensor of the wrong shape, dtype or size, non-finite values,
/// or a parameter out of range. The message says what was wrong and what to do.
/// </summary>
public class DegradationException : LatentIndigoException
{
    /// <summary>Creates the exception with a message.</summary>
    public DegradationException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public DegradationException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// A degradation spec string could not be parsed: unknown operator name, unknown key, malformed value or a value out
/// of range. The message lists the valid names and ranges.
/// </summary>
public sealed class DegradationSpecException : DegradationException
{
    /// <summary>Creates the exception with a message.</summary>
    public DegradationSpecException(string message) : base(message) { }
}
