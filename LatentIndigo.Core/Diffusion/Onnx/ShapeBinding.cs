using LatentIndigo.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace LatentIndigo.Diffusion;

/// <summary>
/// The IOBinding for one input shape: TorchSharp-owned input and output buffers bound once and reused by every run
/// with that shape (ONNX Runtime sees in-place updates of a bound CPU input without rebinding).
/// </summary>
internal class ShapeBinding : IDisposable
{
    private readonly List<IDisposable> owned = [];

    public ShapeBinding(ModelSession session, long key0, long key1, long key2, long key3)
    {
        Io = session.CreateBinding();
        Key = (key0, key1, key2, key3);
    }

    public OrtIoBinding Io { get; }

    public (long, long, long, long) Key { get; }

    /// <summary>Allocates a buffer, binds it as input <paramref name="name"/> and keeps it for the binding's life.</summary>
    public BoundBuffer BindInput(ModelSession session, string name, long[] shape, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType type)
    {
        var b = BoundBuffer.Allocate(shape, type, session.Device, session.MemoryInfo);
        owned.Add(b);
        Io.BindInput(name, b.Value);
        return b;
    }

    /// <summary>Allocates a buffer and binds it as output <paramref name="name"/>.</summary>
    public BoundBuffer BindOutput(ModelSession session, string name, long[] shape, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType type)
    {
        var b = BoundBuffer.Allocate(shape, type, session.Device, session.MemoryInfo);
        owned.Add(b);
        Io.BindOutput(name, b.Value);
        return b;
    }

    /// <summary>A plain (unbound) float32 tensor kept with the binding, e.g. the float32 mirror of an fp16 output.</summary>
    public TorchSharp.torch.Tensor Keep(TorchSharp.torch.Tensor tensor)
    {
        var t = tensor.DetachFromDisposeScope();
        owned.Add(t);
        return t;
    }

    /// <summary>
    /// False when a caller disposed one of the buffers (a returned output, typically). Running then would let ONNX
    /// Runtime write into freed memory, so callers check this before every run.
    /// </summary>
    public bool IsIntact
    {
        get
        {
            foreach (var o in owned)
            {
                var tensor = o switch
                {
                    BoundBuffer b => b.Tensor,
                    TorchSharp.torch.Tensor t => t,
                    _ => null,
                };
                if (tensor is not null && tensor.IsInvalid)
                {
                    return false;
                }
            }
            return true;
        }
    }

    public void Dispose()
    {
        Io.Dispose();
        foreach (var o in owned)
        {
            o.Dispose();
        }
    }
}

/// <summary>A small most-recently-created cache of <see cref="ShapeBinding"/>s keyed by shape, looked up without allocating.</summary>
internal sealed class ShapeBindingCache : IDisposable
{
    private const int Capacity = 4;
    private readonly List<ShapeBinding> items = [];

    /// <summary>
    /// The binding for a key, or null. A binding whose buffers a caller disposed is dropped and reported with an
    /// <see cref="InvalidOperationException"/> (the next call allocates fresh buffers).
    /// </summary>
    public ShapeBinding? Find(long a, long b, long c, long d)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i].Key == (a, b, c, d))
            {
                var binding = items[i];
                if (!binding.IsIntact)
                {
                    items.RemoveAt(i);
                    binding.Dispose();
                    throw new InvalidOperationException(
                        "A tensor returned by a model call was disposed, but it belongs to the model (it is reused by the next call). Do not dispose it; clone() it to keep a copy.");
                }
                return binding;
            }
        }
        return null;
    }

    public ShapeBinding Add(ShapeBinding binding)
    {
        if (items.Count == Capacity)
        {
            items[0].Dispose();
            items.RemoveAt(0);
        }
        items.Add(binding);
        return binding;
    }

    public void Dispose()
    {
        foreach (var b in items)
        {
            b.Dispose();
        }
        items.Clear();
    }
}
