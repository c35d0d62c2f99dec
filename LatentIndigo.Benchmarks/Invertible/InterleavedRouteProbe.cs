using System.Diagnostics;
using LatentIndigo.Guidance;
using LatentIndigo.Invertible;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Invertible;

/// <summary>
/// <c>dotnet run -c Release --project LatentIndigo.Benchmarks -- --interleaved-routes</c>: the two convolution-gradient
/// routes timed in alternation (each repetition runs both, in alternating order; the minimum per route is kept), for
/// machines where BenchmarkDotNet's one-route-after-the-other order drifts more than the routes differ
/// (docs/benchmarks.md). Forward without gradients runs the same code for both routes: the control row.
/// </summary>
internal static class InterleavedRouteProbe
{
    public const string Flag = "--interleaved-routes";

    public static void Run()
    {
        var routes = new[] { ConvolutionGradientRoute.Libtorch, ConvolutionGradientRoute.ForwardConvolutions };
        try
        {
            foreach (int threads in new[] { 2, Environment.ProcessorCount }.Distinct())
            {
                torch.set_num_threads(threads);
                foreach (bool pixel in new[] { false, true })
                {
                    Measure(threads, pixel, routes);
                }
            }
        }
        finally
        {
            TorchCpuSettings.ConvolutionGradient = ConvolutionGradientRoute.ForwardConvolutions;
        }
    }

    private static void Measure(int threads, bool pixel, ConvolutionGradientRoute[] routes)
    {
        using var inn = new LiftingInn(pixel ? LiftingInnOptions.Pixel() : LiftingInnOptions.Latent());
        inn.Engine = InnEngine.TorchSharp; // the routes are TorchSharp's; InterleavedEngineProbe compares engines
        using var g = new Generator(1);
        using var x = pixel ? rand(1, 3, 512, 512, generator: g) : randn(1, 4, 64, 64, generator: g);
        using var y = pixel ? rand(1, 3, 128, 128, generator: g) : randn(1, 4, 16, 16, generator: g);
        var step = new InnGuidanceStep(inn, 1, 1);
        using var refiner = new InnRefiner(inn);
        using var image = refiner.BeginImage();
        int repetitions = pixel ? 6 : 30;
        var operations = new (string Name, Action Run)[]
        {
            ("forward", () => { using var noGrad = no_grad(); using var d = inn.Forward(x, null); }),
            ("guidance", () => { using var r = step.Apply(x, y, null, 0.0); }),
            ("refine", () => refiner.Step(y, x)),
        };
        foreach (var (name, run) in operations)
        {
            var best = new[] { double.MaxValue, double.MaxValue };
            for (int i = 0; i <= repetitions; i++)
            {
                for (int k = 0; k < 2; k++)
                {
                    int route = (k + i) % 2;
                    TorchCpuSettings.ConvolutionGradient = routes[route];
                    var clock = Stopwatch.StartNew();
                    run();
                    if (i > 0)
                    {
                        best[route] = Math.Min(best[route], clock.Elapsed.TotalMilliseconds);
                    }
                }
            }
            Console.WriteLine($"threads {threads,2} {(pixel ? "pixel 512" : "latent 64"),-9} {name,-8}: libtorch {best[0],8:F1} ms, "
                + $"forward-convolutions {best[1],8:F1} ms, ratio {best[1] / best[0]:F2}");
        }
    }
}
