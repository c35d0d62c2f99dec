namespace LatentIndigo.Diffusion.Import;

/// <summary>
/// A single-file Stable Diffusion checkpoint cannot be imported: an architecture this library does not run (SDXL,
/// SD 3, inpainting), an unknown layout, missing or unexpected tensors, or a fact the file does not say (the SD 2.x
/// prediction type). The message says which, what was assumed and what to do.
/// </summary>
internal sealed class SingleFileCheckpointException : LatentIndigoException
{
    public SingleFileCheckpointException(string message) : base(message) { }
}
