using BenchmarkDotNet.Attributes;
using LatentIndigo.Guidance;
using LatentIndigo.Invertible;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Invertible;

/// <summary>
/// The INN's hot passes side by side on the CPU (docs/benchmarks.md, "INN engines"): forward, inverse and one guidance
/// gradient (the library's <see cref="InnGuidanceStep"/>, step size 0) for the INDIGO+ pixel INN at 512² and a latent
/// INN at 64², computed by
/// <list type="bullet">
/// <item>TorchSharp with libtorch's own convolution backward (oneDNN: the fast route, wrong on some AVX-512 AMD CPUs),</item>
/// <item>TorchSharp with the library's forward-convolution backward (the default TorchSharp route, docs/cpu.md),</item>
/// <item>ONNX Runtime (CPU provider) running the generated graphs (<see cref="InnEngine.OnnxRuntime"/>), with the
/// blocked-layout convolutions (the default, docs/onnx-inn.md) and, as "ORT CPU plain", without them.</item>
/// </list>
/// Forward and inverse do not differentiate, so the two TorchSharp rows differ only by noise there. The memory
/// diagnoser gives the managed allocation per operation (the ≤ 1 KB goal is for the guidance step).
/// </summary>
[MemoryDiagnoser(false)]
public class InnEngineBenchmarks
{
    private LiftingInn inn = null!;
    private InnGuidanceStep guidance = null!;
    private Tensor x = null!;
    private Tensor y = null!;
    private InnDecomposition details = null!;

    /// <summary>"pixel 1x3x512x512" or "latent 1x4x64x64".</summary>
    [Params("pixel 1x3x512x512", "latent 1x4x64x64")]
    public string Shape { get; set; } = "";

    /// <summary>Which engine (and, for TorchSharp, which convolution backward) computes the passes.</summary>
    [Params("TorchSharp oneDNN", "TorchSharp fwd-conv", "ORT CPU", "ORT CPU plain")]
    public string Engine { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        TorchCpuSettings.ConvolutionGradient = Engine == "TorchSharp oneDNN"
            ? ConvolutionGradientRoute.Libtorch
            : ConvolutionGradientRoute.ForwardConvolutions;
        bool pixel = Shape.StartsWith("pixel", StringComparison.Ordinal);
        inn = new LiftingInn(pixel ? LiftingInnOptions.Pixel() : LiftingInnOptions.Latent());
        inn.Engine = Engine.StartsWith("ORT", StringComparison.Ordinal) ? InnEngine.OnnxRuntime : InnEngine.TorchSharp;
        // LATENTINDIGO_BENCH_THREADS pins both engines' intra-op threads (libtorch and ONNX Runtime), e.g. 1 on a shared
        // machine, where libtorch's OpenMP threads suffer far more from other processes than ONNX Runtime's do.
        if (int.TryParse(Environment.GetEnvironmentVariable("LATENTINDIGO_BENCH_THREADS"), out int threads) && threads > 0)
        {
            torch.set_num_threads(threads);
            inn.ConfigureOnnxRuntime(() =>
            {
                var o = InnOnnxRuntime.DefaultCpuOptions();
                o.IntraOpNumThreads = threads;
                return o;
            });
        }
        if (Engine == "ORT CPU plain")
        {
            inn.OnnxRuntimeEngine()!.BlockedLayout = false;
        }
        using var g = new Generator(1);
        x = pixel ? rand(1, 3, 512, 512, generator: g) : randn(1, 4, 64, 64, generator: g);
        y = pixel ? rand(1, 3, 128, 128, generator: g) : randn(1, 4, 16, 16, generator: g);
        using (no_grad())
        {
            details = inn.Forward(x, null);
        }
        guidance = new InnGuidanceStep(inn, coarseWeight: 1.0, consistencyWeight: 1.0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        TorchCpuSettings.ConvolutionGradient = ConvolutionGradientRoute.ForwardConvolutions;
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
        return d.Coarse.shape[2];
    }

    [Benchmark(Description = "inverse (no grad)")]
    public long Inverse()
    {
        using var noGrad = no_grad();
        using var back = inn.Inverse(y, details.Details, null);
        return back.shape[2];
    }

    [Benchmark(Description = "guidance gradient")]
    public double GuidanceGradient()
    {
        using var result = guidance.Apply(x, y, null, 0.0);
        return result.CoarseDistance;
    }
}
