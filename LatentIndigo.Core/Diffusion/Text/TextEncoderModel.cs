using LatentIndigo.Onnx;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace LatentIndigo.Diffusion;

/// <summary>The CLIP text encoder of the export (<c>text_encoder/model.onnx</c>): token ids to <c>last_hidden_state</c>.</summary>
internal sealed class TextEncoderModel
{
    private readonly ModelSession session;
    private readonly BindingSlot slot;
    private readonly ShapeBindingCache bindings;

    internal TextEncoderModel(ModelSession session, TensorElementType idType, TensorElementType outputType, int? hiddenSize)
    {
        this.session = session;
        slot = new BindingSlot(session);
        bindings = slot.Bindings;
        InputElementType = idType;
        OutputElementType = outputType;
        HiddenSize = hiddenSize;
    }

    /// <summary>Element type of <c>input_ids</c> (int32 or int64).</summary>
    public TensorElementType InputElementType { get; }

    /// <summary>Element type of <c>last_hidden_state</c>.</summary>
    public TensorElementType OutputElementType { get; }

    /// <summary>Width of the embeddings when the model declares it.</summary>
    public int? HiddenSize { get; }

    /// <summary>Encodes one prompt's ids and returns [1, ids.Length, hidden] float32, owned by the caller.</summary>
    public Tensor Encode(int[] tokenIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        if (tokenIds.Length == 0)
        {
            throw new ArgumentException("At least one token id is needed.", nameof(tokenIds));
        }
        long seq = tokenIds.Length;
        using var call = slot.Enter();
        var bound = Bind(seq);
        using (var ids = torch.tensor(tokenIds, [1, seq]))
        {
            bound.Input.Tensor.copy_(ids);
        }
        session.Run(bound.Io, cancellationToken);
        using var scope = torch.NewDisposeScope();
        return bound.Output.Tensor.to(ScalarType.Float32).to(torch.CPU).clone().MoveToOuterDisposeScope();
    }

    internal void DisposeBuffers() => slot.Dispose();

    private TextBinding Bind(long seq)
    {
        if (bindings.Find(1, seq, 0, 0) is TextBinding existing)
        {
            return existing;
        }
        if (HiddenSize is null)
        {
            throw new LatentIndigoException("text_encoder/model.onnx does not declare the width of last_hidden_state; LatentIndigo needs it static to bind the output.");
        }
        var binding = new TextBinding(session, seq);
        try
        {
            binding.Input = binding.BindInput(session, "input_ids", [1, seq], InputElementType);
            binding.Output = binding.BindOutput(session, "last_hidden_state", [1, seq, HiddenSize.Value], OutputElementType);
        }
        catch
        {
            binding.Dispose();
            throw;
        }
        return (TextBinding)bindings.Add(binding);
    }

    private sealed class TextBinding(ModelSession session, long seq) : ShapeBinding(session, 1, seq, 0, 0)
    {
        public BoundBuffer Input { get; set; } = null!;

        public BoundBuffer Output { get; set; } = null!;
    }
}
