using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace LatentIndigo.Diffusion;

/// <summary>
/// The SD VAE encoder (<c>vae_encoder/model.onnx</c>): images in [−1, 1] to unscaled latents (the mean for
/// <c>latent_parameters</c> exports). Most callers use <see cref="Vae.Encode"/>, which scales and tiles.
/// </summary>
internal sealed class VaeEncoderModel
{
    /// <summary>Spatial down-scaling of the SD VAE.</summary>
    public const int DownscaleFactor = 8;

    private readonly ModelSession session;
    private readonly BindingSlot slot;
    private readonly ShapeBindingCache bindings;

    internal VaeEncoderModel(ModelSession session, VaeEncoderOutputKind outputKind, string outputName, int latentChannels,
        TensorElementType inputType, TensorElementType outputType)
    {
        this.session = session;
        slot = new BindingSlot(session);
        bindings = slot.Bindings;
        OutputKind = outputKind;
        OutputName = outputName;
        LatentChannels = latentChannels;
        InputElementType = inputType;
        OutputElementType = outputType;
    }

    /// <summary>A wrapper over the same session with buffers of its own (one per concurrent restore).</summary>
    internal VaeEncoderModel WithOwnBuffers() =>
        new(session, OutputKind, OutputName, LatentChannels, InputElementType, OutputElementType)
        {
            SamplesNoise = SamplesNoise,
            SamplingRemoved = SamplingRemoved,
        };

    /// <summary>Wall time of the calls made through this wrapper.</summary>
    internal TimeSpan Elapsed => slot.Elapsed;

    /// <summary>Which output the export has.</summary>
    public VaeEncoderOutputKind OutputKind { get; }

    /// <summary>The output's name (<c>latent_sample</c> or <c>latent_parameters</c>).</summary>
    public string OutputName { get; }

    /// <summary>Latent channels C (half of <c>latent_parameters</c>' channels).</summary>
    public int LatentChannels { get; }

    /// <summary>
    /// True when every encode draws fresh noise: a <c>latent_sample</c> export whose <c>RandomNormalLike</c> sampling
    /// head was kept (<see cref="DiffusionModelOptions.KeepEncoderSampling"/>). By default LatentIndigo zeroes that
    /// noise at load, so encodes return the posterior mean and runs are reproducible.
    /// </summary>
    public bool SamplesNoise { get; internal init; }

    /// <summary>True when LatentIndigo removed the export's sampling head at load (encodes return the posterior mean).</summary>
    public bool SamplingRemoved { get; internal init; }

    /// <summary>Element type of <c>sample</c>.</summary>
    public TensorElementType InputElementType { get; }

    /// <summary>Element type of the output.</summary>
    public TensorElementType OutputElementType { get; }

    /// <summary>
    /// Encodes images [B,3,H,W] in [−1, 1] (H, W multiples of 8) and returns the unscaled latent mean
    /// [B,C,H/8,W/8] float32, owned by the model (overwritten by the next call with this shape; do not dispose).
    /// </summary>
    public Tensor EncodeUnscaled(Tensor imageSigned, CancellationToken cancellationToken = default)
    {
        Vae.CheckImage(imageSigned, nameof(imageSigned));
        using var call = slot.Enter();
        var bound = Bind(imageSigned.shape[0], imageSigned.shape[2], imageSigned.shape[3]);
        bound.Input.Tensor.copy_(imageSigned);
        return Run(bound, cancellationToken);
    }

    /// <summary>
    /// Encodes <paramref name="image01"/> ([B,3,H,W] in [0, 1], possibly a strided view) mapped to [−1, 1] inside the
    /// bound buffer, so no intermediate tensor is made. Same ownership as <see cref="EncodeUnscaled"/>.
    /// </summary>
    internal Tensor EncodeUnitRange(Tensor image01, CancellationToken cancellationToken)
    {
        using var call = slot.Enter();
        var bound = Bind(image01.shape[0], image01.shape[2], image01.shape[3]);
        bound.Input.Tensor.copy_(image01).mul_(2).sub_(1);
        return Run(bound, cancellationToken);
    }

    internal void DisposeBuffers() => slot.Dispose();

    private Tensor Run(SingleIoBinding bound, CancellationToken cancellationToken)
    {
        session.Run(bound.Io, cancellationToken);
        if (bound.Result is null)
        {
            return bound.Output.Tensor;
        }
        // The mean: the first half of the latent parameters, and/or converted from fp16.
        using var mean = bound.Output.Tensor.narrow(1, 0, LatentChannels);
        return bound.Result.copy_(mean);
    }

    private SingleIoBinding Bind(long b, long h, long w)
    {
        if (bindings.Find(b, h, w, 0) is SingleIoBinding existing)
        {
            return existing;
        }
        long lh = h / DownscaleFactor, lw = w / DownscaleFactor;
        int outChannels = OutputKind == VaeEncoderOutputKind.LatentParameters ? 2 * LatentChannels : LatentChannels;
        bool needsResult = OutputKind == VaeEncoderOutputKind.LatentParameters || OutputElementType != TensorElementType.Float;
        return (SingleIoBinding)bindings.Add(SingleIoBinding.Create(session, b, h, w,
            ("sample", [b, 3, h, w], InputElementType),
            (OutputName, [b, outChannels, lh, lw], OutputElementType),
            needsResult ? [b, LatentChannels, lh, lw] : null));
    }
}
