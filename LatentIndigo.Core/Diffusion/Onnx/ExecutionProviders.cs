using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace LatentIndigo.Diffusion;

/// <summary>Appending the CUDA provider and turning its failures into one clear error (or a logged fallback).</summary>
internal static class ExecutionProviders
{
    public const string Requirement =
        "CUDA needs the Microsoft.ML.OnnxRuntime.Gpu package (1.31, instead of Microsoft.ML.OnnxRuntime) and NVIDIA CUDA 13 with cuDNN 9 on the library path";

    /// <summary>
    /// Appends CUDA; returns false after logging a warning when it is unavailable and fallback is allowed, throws
    /// <see cref="ExecutionProviderUnavailableException"/> otherwise.
    /// </summary>
    public static bool TryAppendCuda(SessionOptions sessionOptions, DiffusionModelOptions options, ILogger logger, DiffusionModelKind kind)
    {
        try
        {
            if (options.CudaMemoryLimitBytes is { } limit)
            {
                using var cuda = new OrtCUDAProviderOptions();
                cuda.UpdateOptions(new Dictionary<string, string>
                {
                    ["device_id"] = options.CudaDeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["gpu_mem_limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                });
                sessionOptions.AppendExecutionProvider_CUDA(cuda);
            }
            else
            {
                sessionOptions.AppendExecutionProvider_CUDA(options.CudaDeviceId);
            }
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException or OnnxRuntimeException)
        {
            if (!options.AllowCpuFallback)
            {
                throw Unavailable(e);
            }
            logger.LogWarning(e, "CUDA was requested for {Model} but is unavailable ({Reason}); running on the CPU because AllowCpuFallback is set. {Requirement}.",
                kind, e.GetType().Name, Requirement);
            return false;
        }
    }

    public static ExecutionProviderUnavailableException Unavailable(Exception cause) =>
        new($"The CUDA execution provider could not be loaded ({cause.GetType().Name}: {cause.Message}). {Requirement}. "
            + "Set DiffusionModelOptions.AllowCpuFallback to run on the CPU instead, or request ExecutionProviderKind.Cpu.", cause);

    /// <summary>A session-creation failure caused by missing CUDA/cuDNN libraries rather than by the model file.</summary>
    public static bool LooksLikeProviderFailure(OnnxRuntimeException e) =>
        e.Message.Contains("cuda", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("cudnn", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("providers_shared", StringComparison.OrdinalIgnoreCase);
}
