using System.Reflection;
using System.Runtime.InteropServices;

namespace LatentIndigo.Invertible;

/// <summary>
/// The library's choices about libtorch on the CPU, in one place: how INN convolutions are differentiated, and the one
/// process-wide libtorch setting the library changes (NNPACK off). See <c>docs/cpu.md</c> for why.
/// </summary>
/// <remarks>
/// Both settings may be changed at any time from any thread; a restore or training run that is in progress sees the
/// new value at its next convolution. An app that wants libtorch's process-wide state untouched sets
/// <see cref="DisableNnpack"/> to <see langword="false"/> before it creates the first network.
/// </remarks>
public static class TorchCpuSettings
{
    private static volatile ConvolutionGradientRoute convolutionGradient = ConvolutionGradientRoute.ForwardConvolutions;
    private static volatile bool disableNnpack = true;
    private static int nnpackApplied;

    /// <summary>
    /// How float32 INN convolutions on the CPU are differentiated (guidance, blind refinement, training). Default:
    /// <see cref="ConvolutionGradientRoute.ForwardConvolutions"/>, correct on every CPU. Other devices and dtypes
    /// always use libtorch's own backward (cuDNN on CUDA; float64 never goes through oneDNN).
    /// </summary>
    public static ConvolutionGradientRoute ConvolutionGradient
    {
        get => convolutionGradient;
        set
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Use ForwardConvolutions or Libtorch.");
            }
            convolutionGradient = value;
        }
    }

    /// <summary>
    /// Whether the library turns libtorch's NNPACK off for the whole process (default <see langword="true"/>), applied
    /// when the first INN is created. NNPACK is never chosen for this library's convolutions (libtorch uses it only
    /// for batches of 16 or more when oneDNN is off), but checking for it makes libtorch print "Could not initialize
    /// NNPACK! Reason: Unsupported hardware" on CPUs it does not know. Set to <see langword="false"/> before the first
    /// INN is created to leave libtorch's setting alone; setting it later also switches NNPACK back on.
    /// </summary>
    public static bool DisableNnpack
    {
        get => disableNnpack;
        set
        {
            disableNnpack = value;
            if (Volatile.Read(ref nnpackApplied) != 0 || !value)
            {
                LibtorchContext.TrySetNnpackEnabled(!value);
            }
        }
    }

    /// <summary>Applies <see cref="DisableNnpack"/> once per process, before the first INN runs.</summary>
    internal static void EnsureApplied()
    {
        if (Interlocked.Exchange(ref nnpackApplied, 1) == 0 && disableNnpack)
        {
            LibtorchContext.TrySetNnpackEnabled(false);
        }
    }

    /// <summary>
    /// Calls <c>at::globalContext().setUserEnabledNNPACK(bool)</c>, which TorchSharp does not bind, through libtorch's
    /// exported C++ symbols (Itanium ABI: Linux and macOS). Elsewhere, or if the symbols are missing, nothing happens:
    /// the setting only silences a message.
    /// </summary>
    private static class LibtorchContext
    {
        private const string GlobalContextSymbol = "_ZN2at13globalContextEv";
        private const string SetNnpackSymbol = "_ZN2at7Context20setUserEnabledNNPACKEb";
        private const string GetNnpackSymbol = "_ZNK2at7Context17userEnabledNNPACKEv";

        public static bool TrySetNnpackEnabled(bool enabled)
        {
            if (!TryGetExports(out var context, out var set, out _))
            {
                return false;
            }
            unsafe
            {
                ((delegate* unmanaged<IntPtr, byte, void>)set)(context, enabled ? (byte)1 : (byte)0);
            }
            return true;
        }

        public static bool? IsNnpackEnabled()
        {
            if (!TryGetExports(out var context, out _, out var get))
            {
                return null;
            }
            unsafe
            {
                return ((delegate* unmanaged<IntPtr, byte>)get)(context) != 0;
            }
        }

        private static bool TryGetExports(out IntPtr context, out IntPtr set, out IntPtr get)
        {
            context = set = get = IntPtr.Zero;
            if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) || !TryLoadTorchCpu(out var library))
            {
                return false;
            }
            if (!NativeLibrary.TryGetExport(library, GlobalContextSymbol, out var globalContext)
                || !NativeLibrary.TryGetExport(library, SetNnpackSymbol, out set)
                || !NativeLibrary.TryGetExport(library, GetNnpackSymbol, out get))
            {
                return false;
            }
            unsafe
            {
                context = ((delegate* unmanaged<IntPtr>)globalContext)();
            }
            return context != IntPtr.Zero;
        }

        private static bool TryLoadTorchCpu(out IntPtr library)
        {
            // TorchSharp has loaded libtorch by now (creating a module does); loading by name returns that copy.
            _ = TorchSharp.torch.get_num_threads();
            return NativeLibrary.TryLoad("torch_cpu", typeof(TorchSharp.torch).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.AssemblyDirectory, out library)
                || NativeLibrary.TryLoad(OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so", out library);
        }
    }

    /// <summary>For tests: libtorch's current NNPACK switch, or null where it cannot be read.</summary>
    internal static bool? IsNnpackEnabledInLibtorch() => LibtorchContext.IsNnpackEnabled();
}
