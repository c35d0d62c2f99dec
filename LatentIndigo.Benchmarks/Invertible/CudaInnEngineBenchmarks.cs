using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using LatentIndigo.Guidance;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Invertible;

/// <summary>
/// <see cref="InnEngineBenchmarks"/> on a CUDA GPU (run by <c>tools/device/inn-engines.sh</c>; not run
/// in CI, needs the ONNX Runtime GPU package and a CUDA libtorch): the INN's tensors on the GPU, computed by TorchSharp
/// (cuDNN, autograd), by ONNX Runtime's CUDA provider without CUDA graphs, and with CUDA graphs (one capture per shape,
/// then one replay per run: what the pipeline uses on a GPU). Each operation ends with a device synchronisation.
/// </summary>
[MemoryDiagnoser(false)]
[Config(typeof(CudaInnConfig))]
public class CudaInnEngineBenchmarks
{
    private LiftingInn inn = null!;
    private InnGuidanceStep guidance = null!;
    private Tensor x = null!;
    private Tensor y = null!;
    private InnDecomposition details = null!;

    /// <summary>"pixel 1x3x512x512" or "latent 1x4x64x64".</summary>
    [Params("pixel 1x3x512x512", "latent 1x4x64x64")]
    public string Shape { get; set; } = "";

    /// <summary>Which engine computes the passes.</summary>
    [Params("TorchSharp CUDA", "ORT CUDA", "ORT CUDA graphs")]
    public string Engine { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var cuda = new Device(DeviceType.CUDA, 0);
        bool pixel = Shape.StartsWith("pixel", StringComparison.Ordinal);
        inn = new LiftingInn(pixel ? LiftingInnOptions.Pixel() : LiftingInnOptions.Latent());
        inn.to(cuda);
        inn.Engine = Engine == "TorchSharp CUDA" ? InnEngine.TorchSharp : InnEngine.OnnxRuntime;
        bool graphs = Engine == "ORT CUDA graphs";
        inn.ConfigureOnnxRuntime(() => InnSessionOptions.Cuda("0", graphs));
        using var g = new Generator(1);
        using var xCpu = pixel ? rand(1, 3, 512, 512, generator: g) : randn(1, 4, 64, 64, generator: g);
        using var yCpu = pixel ? rand(1, 3, 128, 128, generator: g) : randn(1, 4, 16, 16, generator: g);
        x = xCpu.to(cuda);
        y = yCpu.to(cuda);
        using (no_grad())
        {
            details = inn.Forward(x, null);
        }
        guidance = new InnGuidanceStep(inn, coarseWeight: 1.0, consistencyWeight: 1.0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        details.Dispose();
        inn.Dispose();
        x.Dispose();
        y.Dispose();
    }

    [Benchmark(Description = "forward (no grad)")]
    public long Forward()
    {
        using var noGrad = no_grad();
        using var d = inn.Forward(x, null);
        torch.cuda.synchronize();
        return d.Coarse.shape[2];
    }

    [Benchmark(Description = "inverse (no grad)")]
    public long Inverse()
    {
        using var noGrad = no_grad();
        using var back = inn.Inverse(y, details.Details, null);
        torch.cuda.synchronize();
        return back.shape[2];
    }

    [Benchmark(Description = "guidance gradient")]
    public double GuidanceGradient()
    {
        using var result = guidance.Apply(x, y, null, 0.0);
        torch.cuda.synchronize();
        return result.CoarseDistance;
    }

    /// <summary>In-process (the GPU machine has the .NET runtime, not the SDK), 3 warm-ups, 10 measured iterations of 10
    /// invocations each: fixed counts (no pilot stage) keep the 18 cases inside a short GPU lease, and each invocation
    /// ends with a device synchronisation, so 10 are enough to average out the launch jitter.</summary>
    public sealed class CudaInnConfig : ManualConfig
    {
        /// <summary>Creates the config.</summary>
        public CudaInnConfig()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10).WithInvocationCount(10).WithUnrollFactor(1)
                .WithToolchain(InProcessEmitToolchain.Instance));
        }
    }
}
