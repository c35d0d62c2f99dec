namespace LatentIndigo.Weights;

/// <summary>
/// A weight file (safetensors or PyTorch checkpoint) is damaged, in an unsupported format, or lacks a tensor that was
/// asked for. The message names the file and, where it applies, the tensor.
/// </summary>
internal sealed class WeightFileException : LatentIndigoException
{
    public WeightFileException(string message) : base(message) { }

    public WeightFileException(string message, Exception? innerException) : base(message, innerException) { }
}
