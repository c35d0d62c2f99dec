using LatentIndigo.Diffusion;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace LatentIndigo.Tests.Diffusion.Models;

public class CpuFallbackSettingsTests
{
    /// <summary>
    /// When CUDA is appended but the session cannot start (a message naming CUDA), the CPU retry must keep the thread
    /// count (and the no-spinning entries, set by the same builder; SessionOptions cannot read those back). The CUDA
    /// append is simulated, and the "CUDA failure" is a model path containing "cuda" that does not exist: ONNX Runtime's
    /// message names the path, so the fallback route runs on a machine without CUDA.
    /// </summary>
    [Fact]
    public void The_cpu_fallback_keeps_the_thread_settings()
    {
        var seen = new List<int>();
        var options = new DiffusionModelOptions
        {
            ExecutionProvider = ExecutionProviderKind.Cuda,
            AllowCpuFallback = true,
            IntraOpNumThreads = 3,
            ConfigureSession = (_, so) => seen.Add(so.IntraOpNumThreads),
        };
        var provider = ExecutionProviderKind.Cuda;
        string missing = Path.Combine(Path.GetTempPath(), "no-such-cuda-folder", "model.onnx");
        Assert.Throws<OnnxRuntimeException>(() => ModelSession.Create(DiffusionModelKind.Unet, missing, options, ref provider,
            NullLogger.Instance, appendCuda: _ => true));
        // First attempt (with "CUDA") and the CPU retry both saw the caller's thread count.
        Assert.Equal(new[] { 3, 3 }, seen);
    }
}
