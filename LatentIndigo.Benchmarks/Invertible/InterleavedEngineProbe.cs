using System.Diagnostics;
using LatentIndigo.Guidance;
using LatentIndigo.Invertible;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Invertible;

/// <summary>
/// <c>dotnet run -c Release --project LatentIndigo.Benchmarks -- --interleaved-engines [threads]</c>: the INN's forward,
/// inverse and guidance gradient computed by TorchSharp (libtorch's oneDNN backward), TorchSharp (the library's
/// forward-convolution backward) and ONNX Runtime, timed in rotation (each repetition runs all three, the order rotating;
/// the minimum per engine is kept), so that load from other processes drifting during the run hits every engine alike
/// (docs/benchmarks.md, "INN engines"). Both runtimes get the same intra-op thread count.
/// </summary>
internal static class InterleavedEngineProbe
{
    public const string Flag = "--interleaved-engines";

    private static readonly string[] Engines = ["TorchSharp oneDNN", "TorchSharp fwd-conv", "ORT CPU"];

    public static void Run(int threads)
    {
        torch.set_num_threads(threads);
        try
        {
            foreach (bool pixel in new[] { false, true })
            {
                Measure(threads, pixel);
            }
        }
        finally
        {
            TorchCpuSettings.ConvolutionGradient = ConvolutionGradientRoute.ForwardConvolutions;
        }
    }

    private static void Measure(int threads, bool pixel)
    {
        using var inn = new LiftingInn(pixel ? LiftingInnOptions.Pixel() : LiftingInnOptions.Latent());
        inn.ConfigureOnnxRuntime(() =>
        {
            var o = InnOnnxRuntime.DefaultCpuOptions();
            o.IntraOpNumThreads = threads;
            return o;
        });
        using var g = new Generator(1);
        using var x = pixel ? rand(1, 3, 512, 512, generator: g) : randn(1, 4, 64, 64, generator: g);
        using var y = pixel ? rand(1, 3, 128, 128, generator: g) : randn(1, 4, 16, 16, generator: g);
        InnDecomposition details;
        using (no_grad())
        {
            inn.Engine = InnEngine.TorchSharp;
            details = inn.Forward(x, null);
        }
        using var _ = details;
        var step = new InnGuidanceStep(inn, 1, 1);
        int repetitions = pixel ? 5 : 20;
        var operations = new (string Name, Action Run)[]
        {
            ("forward", () => { using var noGrad = no_grad(); using var d = inn.Forward(x, null); }),
            ("inverse", () => { using var noGrad = no_grad(); using var r = inn.Inverse(y, details.Details, null); }),
            ("guidance", () => { using var r = step.Apply(x, y, null, 0.0); }),
        };
        foreach (var (name, run) in operations)
        {
            var best = new double[Engines.Length];
            Array.Fill(best, double.MaxValue);
            for (int i = 0; i <= repetitions; i++)
            {
                for (int k = 0; k < Engines.Length; k++)
                {
                    int e = (k + i) % Engines.Length;
                    TorchCpuSettings.ConvolutionGradient = e == 0 ? ConvolutionGradientRoute.Libtorch : ConvolutionGradientRoute.ForwardConvolutions;
                    inn.Engine = e == 2 ? InnEngine.OnnxRuntime : InnEngine.TorchSharp;
                    var clock = Stopwatch.StartNew();
                    run();
                    if (i > 0) // the first round warms up (ONNX Runtime builds its session there)
                    {
                        best[e] = Math.Min(best[e], clock.Elapsed.TotalMilliseconds);
                    }
                }
            }
            Console.WriteLine($"threads {threads} {(pixel ? "pixel 512²" : "latent 64²"),-10} {name,-8}: "
                + string.Join(", ", Engines.Select((n, k) => $"{n} {best[k],8:F1} ms"))
                + $"; TorchSharp oneDNN / ORT = {best[0] / best[2]:F2}, TorchSharp fwd-conv / ORT = {best[1] / best[2]:F2}");
        }
    }
}
