using BenchmarkDotNet.Attributes;
using LatentIndigo.Diffusion;
using LatentIndigo.Pipeline;

namespace LatentIndigo.Benchmarks.Pipeline;

/// <summary>
/// <see cref="EstimatorBenchmarks"/> on a lent GPU machine (run by <c>tools/device/gpu-evidence.sh</c>; not run in CI,
/// needs the ONNX Runtime GPU package): one ×4 estimate by the bundled ESRGAN-slim and, when
/// <see cref="EstimatorBenchmarks.ThickVariable"/> names the converted file, ESRGAN-thick, on ONNX Runtime's CUDA
/// provider against its CPU provider on the same machine (all cores), side by side in one run. Two input sizes: the Kodak
/// evaluation's 192×128 (one tile) and 512×512 (a 2048² output: 9 tiles of 192 with 32-pixel overlap, the seam
/// blending timed too). The input and output tensors live on the CPU, as <see cref="IInitialEstimator"/> hands them over.
/// </summary>
public class CudaEstimatorBenchmarks : EstimatorBenchmarks
{
    /// <summary>esrgan-slim-x4, and esrgan-thick-x4 when its file is given (bicubic does not run on ONNX Runtime).</summary>
    public override IEnumerable<string> Estimators => Names().Where(n => n != "bicubic");

    /// <summary>Input size, width×height.</summary>
    [Params("192x128", "512x512")]
    public string Input { get; set; } = "192x128";

    /// <summary>ONNX Runtime's provider.</summary>
    [Params(ExecutionProviderKind.Cuda, ExecutionProviderKind.Cpu)]
    public ExecutionProviderKind Provider { get; set; }

    /// <inheritdoc />
    protected override OnnxUpscaleEstimatorOptions? SessionOptions => new() { Session = new DiffusionModelOptions { ExecutionProvider = Provider } };

    /// <inheritdoc />
    protected override (int Width, int Height) InputSize
    {
        get
        {
            int[] size = Input.Split('x').Select(int.Parse).ToArray();
            return (size[0], size[1]);
        }
    }
}
