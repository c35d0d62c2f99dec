using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = TorchSharp.torch.Tensor;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Onnx;

/// <summary>
/// A TorchSharp tensor and an <see cref="OrtValue"/> over the very same memory (zero-copy): ONNX Runtime reads a
/// bound input from, and writes a bound output into, TorchSharp's storage. The tensor is allocated contiguous,
/// detached from any dispose scope, and lives exactly as long as the OrtValue.
/// </summary>
internal sealed class BoundBuffer : IDisposable
{
    private BoundBuffer(Tensor tensor, OrtValue value, TensorElementType elementType)
    {
        Tensor = tensor;
        Value = value;
        ElementType = elementType;
    }

    /// <summary>The TorchSharp view of the buffer (owned by this object: never dispose it elsewhere).</summary>
    public Tensor Tensor { get; }

    /// <summary>The ONNX Runtime view of the same memory.</summary>
    public OrtValue Value { get; }

    /// <summary>The element type both views agree on.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>Allocates a zeroed buffer of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static BoundBuffer Allocate(long[] shape, TensorElementType elementType, Device device, OrtMemoryInfo memoryInfo)
    {
        var tensor = torch.zeros(shape, ToScalarType(elementType), device).DetachFromDisposeScope();
        try
        {
            var pointer = TorchSharpNative.DataPointer(tensor);
            var value = OrtValue.CreateTensorValueWithData(memoryInfo, elementType, shape, pointer, tensor.numel() * tensor.ElementSize);
            return new BoundBuffer(tensor, value, elementType);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>The TorchSharp dtype for an ONNX element type this library binds.</summary>
    public static ScalarType ToScalarType(TensorElementType type) => type switch
    {
        TensorElementType.Float => ScalarType.Float32,
        TensorElementType.Float16 => ScalarType.Float16,
        TensorElementType.Int64 => ScalarType.Int64,
        TensorElementType.Int32 => ScalarType.Int32,
        TensorElementType.Double => ScalarType.Float64,
        _ => throw new NotSupportedException($"ONNX element type {type} is not bound by LatentIndigo."),
    };

    /// <summary>Frees the OrtValue first (it only borrows the memory), then the tensor.</summary>
    public void Dispose()
    {
        Value.Dispose();
        Tensor.Dispose();
    }
}
