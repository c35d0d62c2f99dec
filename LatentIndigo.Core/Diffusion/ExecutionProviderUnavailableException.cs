namespace LatentIndigo.Diffusion;

/// <summary>
/// The requested execution provider (CUDA) cannot be used in this process: the package or the native libraries it
/// needs are missing. The message says what to install; <see cref="DiffusionModelOptions.AllowCpuFallback"/> runs on the
/// CPU instead.
/// </summary>
public sealed class ExecutionProviderUnavailableException : LatentIndigoException
{
    /// <summary>Creates the exception.</summary>
    public ExecutionProviderUnavailableException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}
