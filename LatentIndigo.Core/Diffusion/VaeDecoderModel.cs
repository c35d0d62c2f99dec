using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace LatentIndigo.Diffusion;

/// <summary>
/// The SD VAE decoder (<c>vae_decoder/model.onnx</c>): unscaled latents to images in [−1, 1]. Most callers use
/// <see cref="Vae.Decode"/>, which scales and tiles.
/// </summary>
internal sealed class VaeDecoderModel
{
    private readonly ModelSession session;
    private readonly BindingSlot slot;
    private readonly ShapeBindingCache bindings;

    internal VaeDecoderModel(ModelSession session, int latentChannels, TensorElementType inputType, TensorElementType outputType)
    {
        this.session = session;
        slot = new BindingSlot(session);
        bindings = slot.Bindings;
        LatentChannels = latentChannels;
        InputElementType = inputType;
        OutputElementType = outputType;
    }

    /// <summary>A wrapper over the same session with buffers of its own (one per concurrent restore).</summary>
    internal VaeDecoderModel WithOwnBuffers() => new(session, LatentChannels, InputElementType, OutputElementType);

    /// <summary>Wall time of the calls made through this wrapper.</summary>
    internal TimeSpan Elapsed => slot.Elapsed;

    /// <summary>Latent channels C of <c>latent_sample</c>.</summary>
    public int LatentChannels { get; }

    /// <summary>Element type of <c>latent_sample</c>.</summary>
    public TensorElementType InputElementType { get; }

    /// <summary>Element type of <c>sample</c>.</summary>
    public TensorElementType OutputElementType { get; }

    /// <summary>
    /// Decodes unscaled latents [B,C,h,w] and returns images [B,3,8h,8w] in about [−1, 1], float32, owned by the
    /// model (overwritten by the next call with this shape; do not dispose).
    /// </summary>
    public Tensor DecodeUnscaled(Tensor latents, CancellationToken cancellationToken = default)
    {
        Vae.CheckLatents(latents, LatentChannels, nameof(latents));
        return DecodeScaled(latents, 1.0, cancellationToken);
    }

    /// <summary>Decodes <paramref name="latents"/>·<paramref name="multiplier"/> (the scaling is applied inside the bound buffer).</summary>
    internal Tensor DecodeScaled(Tensor latents, double multiplier, CancellationToken cancellationToken)
    {
        using var call = slot.Enter();
        var bound = Bind(latents.shape[0], latents.shape[2], latents.shape[3]);
        bound.Input.Tensor.copy_(latents);
        if (multiplier != 1.0)
        {
            bound.Input.Tensor.mul_(multiplier);
        }
        session.Run(bound.Io, cancellationToken);
        return bound.Result is null ? bound.Output.Tensor : bound.Result.copy_(bound.Output.Tensor);
    }

    internal void DisposeBuffers() => slot.Dispose();

    private SingleIoBinding Bind(long b, long h, long w)
    {
        if (bindings.Find(b, h, w, 0) is SingleIoBinding existing)
        {
            return existing;
        }
        long f = VaeEncoderModel.DownscaleFactor;
        // fp16 exports: the output is converted into a float32 result buffer.
        return (SingleIoBinding)bindings.Add(SingleIoBinding.Create(session, b, h, w,
            ("latent_sample", [b, LatentChannels, h, w], InputElementType),
            ("sample", [b, 3, h * f, w * f], OutputElementType),
            OutputElementType != TensorElementType.Float ? [b, 3, h * f, w * f] : null));
    }
}
