using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using LatentIndigo.Diffusion;
using LatentIndigo.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Pipeline;

/// <summary>
/// <see cref="EstimatorBenchmarks"/> on a lent GPU machine (run by <c>tools/device/gpu-evidence.sh</c>; not run in CI,
/// needs the ONNX Runtime GPU package): one ×4 estimate by the bundled ESRGAN-slim and, when
/// <see cref="EstimatorBenchmarks.ThickVariable"/> names the converted file, ESRGAN-thick, on ONNX Runtime's CUDA
/// provider against its CPU provider on the same machine (all cores), side by side in one run. Two input sizes: the Kodak
/// evaluation's 192×128 (one tile) and 512×512 (a 2048² output: 9 tiles of 192 with 32-pixel overlap, the seam
/// blending timed too). The input and output tensors live on the CPU, as <see cref="IInitialEstimator"/> hands them over.
/// </summary>
[Config(typeof(EstimatorBenchmarkConfig))]
public class CudaEstimatorBenchmarks
{
    private OnnxUpscaleEstimator estimator = null!;
    private Tensor input = null!;

    /// <summary>esrgan-slim-x4, and esrgan-thick-x4 when its file is given.</summary>
    [ParamsSource(nameof(Estimators))]
    public string Estimator { get; set; } = "esrgan-slim-x4";

    /// <summary>The cases: the thick network only when its file is given.</summary>
    public static IEnumerable<string> Estimators => EstimatorBenchmarks.Names().Where(n => n != "bicubic");

    /// <summary>Input size, width×height.</summary>
    [Params("192x128", "512x512")]
    public string Input { get; set; } = "192x128";

    /// <summary>ONNX Runtime's provider.</summary>
    [Params(ExecutionProviderKind.Cuda, ExecutionProviderKind.Cpu)]
    public ExecutionProviderKind Provider { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new OnnxUpscaleEstimatorOptions { Session = new DiffusionModelOptions { ExecutionProvider = Provider } };
        string source = Estimator == "esrgan-thick-x4" ? Environment.GetEnvironmentVariable(EstimatorBenchmarks.ThickVariable)! : Estimator;
        estimator = OnnxUpscaleEstimator.Load(source, options);
        int[] size = Input.Split('x').Select(int.Parse).ToArray();
        var generator = new torch.Generator(2026);
        input = torch.rand([1, 3, size[1], size[0]], generator: generator);
        // One estimate outside the measurement: ONNX Runtime's first run plans memory and picks (cuDNN) kernels.
        estimator.Estimate(input, 4).Dispose();
    }

    /// <summary>One ×4 estimate.</summary>
    [Benchmark]
    public long Estimate()
    {
        using var output = estimator.Estimate(input, 4);
        return output.shape[3];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        estimator.Dispose();
        input.Dispose();
    }
}
