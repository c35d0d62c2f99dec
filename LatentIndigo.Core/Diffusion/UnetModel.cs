using LatentIndigo.Onnx;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace LatentIndigo.Diffusion;

/// <summary>
/// The SD UNet (<c>unet/model.onnx</c>): ε (or v) from noisy latents, a timestep and text embeddings, run through
/// IOBinding over TorchSharp buffers allocated once per shape.
/// </summary>
/// <remarks>
/// Ownership: the tensor a <c>PredictNoise</c> call returns belongs to the model. It is float32, is overwritten by the
/// next call with the same shape and is freed with the model set; do not dispose it, and <c>clone()</c> it to keep it.
/// One call at a time (see <see cref="StableDiffusionModels"/>).
/// </remarks>
internal sealed class UnetModel
{
    private readonly ModelSession session;
    private readonly BindingSlot slot;
    private readonly ShapeBindingCache bindings;

    internal UnetModel(ModelSession session, int latentChannels, TensorElementType sampleType, TensorElementType timestepType,
        int timestepRank, int? timestepLength, TensorElementType hiddenStatesType, int? hiddenSize, TensorElementType outputType)
    {
        this.session = session;
        slot = new BindingSlot(session);
        bindings = slot.Bindings;
        LatentChannels = latentChannels;
        SampleElementType = sampleType;
        TimestepElementType = timestepType;
        TimestepRank = timestepRank;
        TimestepLength = timestepLength;
        HiddenStatesElementType = hiddenStatesType;
        HiddenSize = hiddenSize;
        OutputElementType = outputType;
    }

    /// <summary>A wrapper over the same session with buffers of its own (one per concurrent restore).</summary>
    internal UnetModel WithOwnBuffers() =>
        new(session, LatentChannels, SampleElementType, TimestepElementType, TimestepRank, TimestepLength, HiddenStatesElementType, HiddenSize, OutputElementType)
        {
            StaticSizes = StaticSizes,
        };

    /// <summary>Wall time of the calls made through this wrapper.</summary>
    internal TimeSpan Elapsed => slot.Elapsed;

    /// <summary>Latent channels C of <c>sample</c> and <c>out_sample</c>.</summary>
    public int LatentChannels { get; }

    /// <summary>Element type of <c>sample</c> (float32 or float16).</summary>
    public TensorElementType SampleElementType { get; }

    /// <summary>Element type of <c>timestep</c> (float32, float16, int64 or int32).</summary>
    public TensorElementType TimestepElementType { get; }

    /// <summary>Rank of <c>timestep</c>: 0 (a scalar) or 1 ([batch]).</summary>
    public int TimestepRank { get; }

    /// <summary>Static length of a rank-1 <c>timestep</c> (null: symbolic, one value per batch item).</summary>
    public int? TimestepLength { get; }

    /// <summary>Element type of <c>encoder_hidden_states</c>.</summary>
    public TensorElementType HiddenStatesElementType { get; }

    /// <summary>Width of <c>encoder_hidden_states</c> when the model declares it (null: symbolic).</summary>
    public int? HiddenSize { get; }

    /// <summary>Element type of <c>out_sample</c>.</summary>
    public TensorElementType OutputElementType { get; }

    /// <summary>
    /// Runs the UNet on <paramref name="latents"/> [B,C,h,w] at <paramref name="timestep"/> with text embeddings
    /// [B or 1, seq, hidden] and returns the model output [B,C,h,w] float32 (owned by the model: see remarks).
    /// The inputs are copied into the bound buffers (converted to fp16 for fp16 models); when
    /// <paramref name="latents"/> already is the bound input, nothing is copied. The text embeddings are treated as
    /// read-only: they are copied again only when a different tensor object is passed (the ones from
    /// <see cref="StableDiffusionModels.EncodePrompt"/> never change), so pass a new tensor rather than editing one
    /// in place between calls.
    /// </summary>
    public Tensor PredictNoise(Tensor latents, int timestep, Tensor encoderHiddenStates, CancellationToken cancellationToken = default)
    {
        CheckLatents(latents);
        CheckHiddenStates(encoderHiddenStates, latents.size(0));
        CheckTimestep(timestep);
        CheckStaticSizes(latents.size(0), latents.size(2), latents.size(3), encoderHiddenStates.size(1), guidance: false);
        using var call = slot.Enter();
        long b = latents.size(0);
        var bound = GetBinding(b, latents.size(2), latents.size(3), encoderHiddenStates.size(1), encoderHiddenStates.size(2));
        CopyUnlessSame(bound.Sample.Tensor, latents);
        if (!ReferenceEquals(bound.StatesSource, encoderHiddenStates) || bound.UncondSource is not null)
        {
            bound.HiddenStates.Tensor.copy_(encoderHiddenStates);
            bound.StatesSource = encoderHiddenStates;
            bound.UncondSource = null;
        }
        bound.Timestep.Tensor.fill_(timestep);
        session.Run(bound.Io, cancellationToken);
        return bound.Result();
    }

    /// <summary>
    /// Runs the UNet with a prompt's conditioning. With classifier-free guidance (scale ≠ 1 and an unconditional
    /// embedding) it runs one batch of 2B (unconditional, then conditional) and returns
    /// ε_u + s·(ε_c − ε_u); an export with a static batch of B runs the two halves one after the other instead. Otherwise it is <see cref="PredictNoise(Tensor, int, Tensor, CancellationToken)"/> with the
    /// conditional embedding. The result belongs to the model (see remarks).
    /// </summary>
    public Tensor PredictNoise(Tensor latents, int timestep, TextConditioning conditioning, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conditioning);
        if (!conditioning.UsesGuidance)
        {
            return PredictNoise(latents, timestep, conditioning.Conditional, cancellationToken);
        }
        CheckLatents(latents);
        CheckTimestep(timestep);
        long b = latents.size(0);
        var cond = conditioning.Conditional;
        var uncond = conditioning.Unconditional!;
        CheckHiddenStates(cond, b);
        double s = conditioning.GuidanceScale;
        if (StaticSizes?.Batch is { } staticBatch && staticBatch == b)
        {
            // A static batch of B cannot take the 2B batch: unconditional, then conditional, in two runs.
            using var unconditional = PredictNoise(latents, timestep, uncond, cancellationToken).clone();
            var conditional = PredictNoise(latents, timestep, cond, cancellationToken); // the model's buffer, reused by the next call anyway
            return conditional.mul_(s).add_(unconditional, alpha: 1 - s);
        }
        CheckStaticSizes(2 * b, latents.size(2), latents.size(3), cond.size(1), guidance: true);
        using var call = slot.Enter();
        var bound = GetBinding(2 * b, latents.size(2), latents.size(3), cond.size(1), cond.size(2));
        using (var first = bound.Sample.Tensor.narrow(0, 0, b))
        using (var second = bound.Sample.Tensor.narrow(0, b, b))
        {
            first.copy_(latents);
            second.copy_(latents);
        }
        if (!ReferenceEquals(bound.StatesSource, cond) || !ReferenceEquals(bound.UncondSource, uncond))
        {
            using var h1 = bound.HiddenStates.Tensor.narrow(0, 0, b);
            using var h2 = bound.HiddenStates.Tensor.narrow(0, b, b);
            h1.copy_(uncond);
            h2.copy_(cond);
            bound.StatesSource = cond;
            bound.UncondSource = uncond;
        }
        bound.Timestep.Tensor.fill_(timestep);
        session.Run(bound.Io, cancellationToken);
        var output = bound.Result();
        var guided = bound.Guided ??= bound.Owner.Keep(torch.empty([b, LatentChannels, latents.size(2), latents.size(3)], ScalarType.Float32, session.Device));
        using var u = output.narrow(0, 0, b);
        using var c = output.narrow(0, b, b);
        guided.copy_(u).mul_(1 - s).add_(c, alpha: s);
        return guided;
    }

    /// <summary>
    /// The bound <c>sample</c> input buffer for a shape (float32 models only; null otherwise). Writing latents into it
    /// in place and passing it to <c>PredictNoise</c> avoids even the input copy.
    /// </summary>
    public Tensor? GetInputBuffer(long batch, long height, long width, long sequenceLength, long hiddenSize)
    {
        if (SampleElementType != TensorElementType.Float)
        {
            return null;
        }
        using var call = slot.Enter();
        return GetBinding(batch, height, width, sequenceLength, hiddenSize).Sample.Tensor;
    }

    /// <summary>The memory ONNX Runtime writes <c>out_sample</c> into for a shape (for zero-copy checks).</summary>
    internal IntPtr OutputAddress(long batch, long height, long width, long sequenceLength, long hiddenSize) =>
        TorchSharpNative.DataPointer(GetBinding(batch, height, width, sequenceLength, hiddenSize).Output.Tensor);

    /// <summary>The OrtValue bound as <c>out_sample</c> for a shape (tests read its address through ONNX Runtime).</summary>
    internal Microsoft.ML.OnnxRuntime.OrtValue OutputValue(long batch, long height, long width, long sequenceLength, long hiddenSize) =>
        GetBinding(batch, height, width, sequenceLength, hiddenSize).Output.Value;

    internal void DisposeBuffers() => slot.Dispose();

    /// <summary>Static sizes the export declares (null: all symbolic).</summary>
    internal StaticUnetSizes? StaticSizes { get; init; }

    // A static-shape export fails in ONNX Runtime at other sizes; say which size and what to change before running.
    private void CheckStaticSizes(long batch, long height, long width, long sequence, bool guidance)
    {
        if (StaticSizes is not { } s)
        {
            return;
        }
        var wrong = new List<string>();
        if (s.Batch is { } b && b != batch)
        {
            wrong.Add(guidance
                ? $"batch {b}, but classifier-free guidance runs the unconditional and conditional halves together (batch {batch}): use guidance scale 1 with this export"
                : $"batch {b}, but this call has batch {batch}");
        }
        if ((s.Height is { } h && h != height) || (s.Width is { } w && w != width))
        {
            wrong.Add($"latents of {s.Height?.ToString() ?? "any"}×{s.Width?.ToString() ?? "any"}, but this call has {height}×{width}: use latent tiles of that size (RestoreOptions.LatentTileSize, CLI --tile)");
        }
        if (s.Sequence is { } q && q != sequence)
        {
            wrong.Add($"{q} text tokens, but this call has {sequence}");
        }
        if (wrong.Count > 0)
        {
            throw new LatentIndigoException(
                $"The unet was exported with static input sizes ({s.Description}) and takes only {string.Join("; and ", wrong)}. Or re-export it with dynamic axes.");
        }
    }

    private UnetBinding GetBinding(long b, long h, long w, long seq, long hidden)
    {
        // One key slot carries both the sequence length and the hidden width.
        long textKey = seq * 1_000_000 + hidden;
        if (bindings.Find(b, h, w, textKey) is UnetBinding existing)
        {
            return existing;
        }
        var binding = new UnetBinding(session, b, h, w, textKey);
        try
        {
            binding.Sample = binding.BindInput(session, "sample", [b, LatentChannels, h, w], SampleElementType);
            // A [batch] timestep exported with a static length of 1 takes one value for the whole batch.
            binding.Timestep = binding.BindInput(session, "timestep", TimestepRank == 0 ? [] : [TimestepLength ?? b], TimestepElementType);
            binding.HiddenStates = binding.BindInput(session, "encoder_hidden_states", [b, seq, hidden], HiddenStatesElementType);
            binding.Output = binding.BindOutput(session, "out_sample", [b, LatentChannels, h, w], OutputElementType);
            if (OutputElementType != TensorElementType.Float)
            {
                binding.Mirror = binding.Keep(torch.empty([b, LatentChannels, h, w], ScalarType.Float32, session.Device));
            }
        }
        catch
        {
            binding.Dispose();
            throw;
        }
        bindings.Add(binding);
        return binding;
    }

    private void CheckLatents(Tensor latents)
    {
        ArgumentNullException.ThrowIfNull(latents);
        if (latents.dim() != 4 || latents.size(1) != LatentChannels || latents.size(0) < 1 || latents.size(2) < 1 || latents.size(3) < 1)
        {
            throw new ArgumentException(
                $"Latents must have shape [batch, {LatentChannels}, height, width]; got [{string.Join(",", latents.shape)}].", nameof(latents));
        }
        if (!latents.is_floating_point())
        {
            throw new ArgumentException($"Latents must be floating point; got {latents.dtype}.", nameof(latents));
        }
    }

    private void CheckHiddenStates(Tensor states, long batch)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (states.dim() != 3 || (states.size(0) != batch && states.size(0) != 1) || (HiddenSize is { } h && states.size(2) != h))
        {
            throw new ArgumentException(
                $"encoder_hidden_states must have shape [{batch} or 1, sequence, {(HiddenSize?.ToString() ?? "hidden")}]; got [{string.Join(",", states.shape)}]. Use StableDiffusionModels.EncodePrompt to make them.",
                nameof(states));
        }
    }

    private static void CheckTimestep(int timestep)
    {
        if (timestep < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep, "Timesteps are >= 0.");
        }
    }

    private static void CopyUnlessSame(Tensor destination, Tensor source)
    {
        if (destination.Handle != source.Handle
            && !(source.dtype == destination.dtype && source.device == destination.device && source.is_contiguous()
                 && TorchSharpNative.DataPointer(source) == TorchSharpNative.DataPointer(destination)))
        {
            destination.copy_(source);
        }
    }

    /// <summary>The UNet's static input sizes (null where symbolic) and their description for messages.</summary>
    internal sealed record StaticUnetSizes(int? Batch, int? Height, int? Width, int? Sequence, string Description);

    private sealed class UnetBinding : ShapeBinding
    {
        public UnetBinding(ModelSession session, long b, long h, long w, long seq) : base(session, b, h, w, seq)
        {
        }

        public BoundBuffer Sample { get; set; } = null!;

        public BoundBuffer Timestep { get; set; } = null!;

        public BoundBuffer HiddenStates { get; set; } = null!;

        public BoundBuffer Output { get; set; } = null!;

        public Tensor? Mirror { get; set; }

        public Tensor? Guided { get; set; }

        /// <summary>The caller's embeddings last copied in (compared by reference only, never used otherwise).</summary>
        public Tensor? StatesSource { get; set; }

        /// <summary>The caller's unconditional embeddings last copied in (classifier-free guidance).</summary>
        public Tensor? UncondSource { get; set; }

        public ShapeBinding Owner => this;

        /// <summary>The float32 output: the bound buffer itself, or its float32 mirror for fp16 models.</summary>
        public Tensor Result()
        {
            return Mirror is null ? Output.Tensor : Mirror.copy_(Output.Tensor);
        }
    }
}
