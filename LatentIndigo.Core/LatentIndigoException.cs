namespace LatentIndigo;

/// <summary>
/// Base type of every error LatentIndigo raises about the caller's input (files, models, options, tensors).
/// The message always says what was wrong and what to do about it.
/// </summary>
public class LatentIndigoException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public LatentIndigoException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public LatentIndigoException(string message, Exception? innerException) : base(message, innerException) { }
}
