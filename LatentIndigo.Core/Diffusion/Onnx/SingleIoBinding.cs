using LatentIndigo.Onnx;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Diffusion;

/// <summary>
/// A <see cref="ShapeBinding"/> with one bound input, one bound output and, where the output cannot be handed out as
/// it is (fp16, or more channels than the caller gets), a float32 result buffer: the layout of the VAE encoder and
/// decoder.
/// </summary>
internal sealed class SingleIoBinding : ShapeBinding
{
    private SingleIoBinding(ModelSession session, long b, long h, long w) : base(session, b, h, w, 0)
    {
    }

    public BoundBuffer Input { get; private set; } = null!;

    public BoundBuffer Output { get; private set; } = null!;

    /// <summary>The float32 buffer results are copied into, or null when <see cref="Output"/> is returned directly.</summary>
    public Tensor? Result { get; private set; }

    /// <summary>Allocates and binds the buffers for the shape key (b, h, w); disposes what it made if binding fails.</summary>
    public static SingleIoBinding Create(ModelSession session, long b, long h, long w,
        (string Name, long[] Shape, TensorElementType Type) input,
        (string Name, long[] Shape, TensorElementType Type) output,
        long[]? resultShape)
    {
        var binding = new SingleIoBinding(session, b, h, w);
        try
        {
            binding.Input = binding.BindInput(session, input.Name, input.Shape, input.Type);
            binding.Output = binding.BindOutput(session, output.Name, output.Shape, output.Type);
            if (resultShape is not null)
            {
                binding.Result = binding.Keep(torch.empty(resultShape, ScalarType.Float32, session.Device));
            }
            return binding;
        }
        catch
        {
            binding.Dispose();
            throw;
        }
    }
}
