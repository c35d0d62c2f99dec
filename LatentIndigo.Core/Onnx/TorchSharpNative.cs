using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace LatentIndigo.Onnx;

/// <summary>
/// The data pointer of a TorchSharp tensor for any dtype. TorchSharp's <c>storage&lt;Half&gt;()</c> throws, so fp16
/// buffers use LibTorchSharp's own <c>THSTensor_data</c> export (the library TorchSharp itself loads), which returns
/// <c>tensor.data_ptr()</c>: the storage base plus the storage offset, on the CPU or on a CUDA device.
/// </summary>
internal static partial class TorchSharpNative
{
    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);

    /// <summary>Address of the first element of <paramref name="tensor"/>.</summary>
    public static IntPtr DataPointer(Tensor tensor)
    {
        var p = THSTensor_data(tensor.Handle);
        if (p == IntPtr.Zero && tensor.numel() > 0)
        {
            throw new InvalidOperationException("LibTorchSharp returned a null data pointer for a non-empty tensor.");
        }
        return p;
    }
}
