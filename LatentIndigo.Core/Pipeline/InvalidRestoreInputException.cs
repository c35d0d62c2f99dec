namespace LatentIndigo.Pipeline;

/// <summary>The image given to <see cref="RestorationPipeline"/> cannot be restored as it is; the message says why.</summary>
public sealed class InvalidRestoreInputException(string message) : LatentIndigoException(message);
