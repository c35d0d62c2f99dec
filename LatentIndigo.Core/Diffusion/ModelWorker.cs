namespace LatentIndigo.Diffusion;

/// <summary>
/// One caller's handle on a shared <see cref="StableDiffusionModels"/>: the UNet and VAE over the shared ONNX Runtime
/// sessions, with bound buffers of its own, so that workers run concurrently without touching each other's buffers.
/// Made by <see cref="StableDiffusionModels.CreateWorker"/>; one thread at a time uses a worker. Disposing it frees its
/// buffers (the sessions stay with the model set). It also adds up the time its model calls take.
/// </summary>
internal sealed class ModelWorker : IDisposable
{
    internal ModelWorker(UnetModel unet, Vae vae)
    {
        Unet = unet;
        Vae = vae;
    }

    public UnetModel Unet { get; }

    public Vae Vae { get; }

    /// <summary>Wall time inside this worker's UNet calls.</summary>
    public TimeSpan UnetTime => Unet.Elapsed;

    /// <summary>Wall time inside this worker's VAE encoder and decoder calls.</summary>
    public TimeSpan VaeTime => Vae.Elapsed;

    public void Dispose()
    {
        Unet.DisposeBuffers();
        Vae.DisposeBuffers();
    }
}
