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
