using BenchmarkDotNet.Attributes;
using LatentIndigo.Guidance;
using LatentIndigo.Invertible;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Invertible;

/// <summary>
/// The INDIGO+ lifting INN (K = 2, width 32, 4 lifts, J = 2) on the CPU: forward, inverse, one guidance gradient
/// (forward + inverse + backward to the input, as in the pixel/latent guidance step), one refinement step (Adam on
/// MSE(y, coarse)) and INN-only restoration, for a 512² RGB image and a 64² SD latent.
/// </summary>
[MemoryDiagnoser(false)]
public class InnBenchmarks
{
    private LiftingInn inn = null!;
    private InnRefiner refiner = null!;
    private InnGuidanceStep guidance = null!;
    private IDisposable refinerImage = null!;
    private Tensor x = null!;
    private Tensor y = null!;
    private InnDecomposition details = null!;

    /// <summary>"pixel 1x3x512x512" or "latent 1x4x64x64".</summary>
    [Params("pixel 1x3x512x512", "latent 1x4x64x64")]
    public string Shape { get; set; } = "";

    /// <summary>
    /// How float32 CPU convolutions are differentiated: libtorch's own backward (oneDNN; the code before 2026-11-27,
    /// wrong on some AVX-512 AMD CPUs) or the library's default. Forward and inverse (no grad) do not depend on it.
    /// </summary>
    [Params(ConvolutionGradientRoute.Libtorch, ConvolutionGradientRoute.ForwardConvolutions)]
    public ConvolutionGradientRoute Gradients { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        TorchCpuSettings.ConvolutionGradient = Gradients;
        // LATENTINDIGO_BENCH_THREADS pins libtorch's thread count, to compare machines with different core counts.
        if (int.TryParse(Environment.GetEnvironmentVariable("LATENTINDIGO_BENCH_THREADS"), out int threads) && threads > 0)
        {
            torch.set_num_threads(threads);
        }
        bool pixel = Shape.StartsWith("pixel", StringComparison.Ordinal);
        inn = new LiftingInn(pixel ? LiftingInnOptions.Pixel() : LiftingInnOptions.Latent());
        // These figures are TorchSharp's (as recorded before the ONNX Runtime engine); InnEngineBenchmarks compares engines.
        inn.Engine = InnEngine.TorchSharp;
        using var g = new Generator(1);
        x = pixel ? rand(1, 3, 512, 512, generator: g) : randn(1, 4, 64, 64, generator: g);
        y = pixel ? rand(1, 3, 128, 128, generator: g) : randn(1, 4, 16, 16, generator: g);
        using (no_grad())
        {
            details = inn.Forward(x, null);
        }
        refiner = new InnRefiner(inn);
        guidance = new InnGuidanceStep(inn, coarseWeight: 1.0, consistencyWeight: 1.0);
        refinerImage = refiner.BeginImage();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        TorchCpuSettings.ConvolutionGradient = ConvolutionGradientRoute.ForwardConvolutions;
        refinerImage.Dispose();
        refiner.Dispose();
        details.Dispose();
        inn.Dispose();
        x.Dispose();
        y.Dispose();
    }

    [Benchmark(Description = "forward (no grad)")]
    public float Forward()
    {
        using var noGrad = no_grad();
        using var d = inn.Forward(x, null);
        return d.Coarse[0, 0, 0, 0].ToSingle();
    }

    [Benchmark(Description = "inverse (no grad)")]
    public float Inverse()
    {
        using var noGrad = no_grad();
        using var back = inn.Inverse(y, details.Details, null);
        return back[0, 0, 0, 0].ToSingle();
    }

    [Benchmark(Description = "guidance gradient (fwd + inv + backward)")]
    public float GuidanceGradient()
    {
        // The library's own guidance step (step size 0: the cost is the loss and its gradient to the input).
        using var result = guidance.Apply(x, y, null, 0.0);
        return result.CoarseDistance > 0 ? 1f : 0f;
    }

    [Benchmark(Description = "refinement step (Adam on MSE(y, coarse))")]
    public double RefinementStep() => refiner.Step(y, x);

    /// <summary>
    /// The pipeline's INN-only method for a deterministic known degradation (issue 12): 8 back-projection corrections
    /// from the bicubic estimate, each one INN forward pass plus a bicubic upscale (noise level 0, so none is skipped).
    /// </summary>
    [Benchmark(Description = "INN-only back-projection (8 corrections)")]
    public float BackProject()
    {
        using var estimate = LatentIndigo.Degradations.MatlabBicubic.Resize(y, (double)inn.ScaleFactor);
        using var r = InnBackProjection.Apply(inn, y, estimate, InnTiling.Default, null, 0, clampToUnitRange: inn.Channels == 3, out _);
        return r[0, 0, 0, 0].ToSingle();
    }
}
