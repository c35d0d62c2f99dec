using System.Diagnostics;
using System.Globalization;
using LatentIndigo.Diffusion;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.StandIns;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Benchmarks.Pipeline;

/// <summary>
/// Four concurrent restores on ONE pipeline (one model set, <c>maxConcurrentRestores: 4</c>) against four pipelines
/// (four model sets, one restore each, in parallel): wall time for the four and the process's peak resident memory.
/// Each mode runs in a fresh process (<c>--concurrency-probe one|four</c>), because the peak (VmHWM, Linux) is per process.
/// Not BenchmarkDotNet: BDN's memory diagnoser sees only the managed heap, and the models' memory is native.
/// Stand-in models of the "cpu" cost (≈5 GFLOP UNet, ≈10 GFLOP VAE stacks, random weights), 64×64 → 256×256,
/// no guidance (UNet and VAE only: the shared part), 2 DDIM steps from pure noise, quality figures off. One warm-up
/// restore per model set first. Kept small so that it finishes on a shared 2-core machine.
/// </summary>
internal static class ConcurrencyProbe
{
    public const string Flag = "--concurrency-probe";

    public static void Run(string mode)
    {
        using var folder = StandInModelBuilder.CreateTemporary(new StandInOptions
        {
            Cost = StandInCost.CpuBenchmark,
            VaeCost = new StandInCost(128, 8),
            UnetBehavior = StandInUnetBehavior.GaussianDenoiser,
        });
        var options = RestoreOptions.Default with { Strategy = GuidanceStrategy.None, Steps = 2, Strength = 1.0, ComputeQualityMetrics = false };
        var inputs = Enumerable.Range(0, 4).Select(i => torch.rand(new long[] { 1, 3, 64, 64 }, generator: new Generator((ulong)i + 1))).ToArray();
        var pipelines = mode == "one"
            ? [new RestorationPipeline(StableDiffusionModels.Load(folder.Path), BundledInn.Load(BundledInnWeights.BicubicX4), maxConcurrentRestores: 4)]
            : Enumerable.Range(0, 4).Select(_ => new RestorationPipeline(StableDiffusionModels.Load(folder.Path), BundledInn.Load(BundledInnWeights.BicubicX4))).ToArray();
        foreach (var p in pipelines)
        {
            p.Restore(inputs[0], options).Dispose(); // warm-up: bindings, arenas, libtorch kernels
        }
        var clock = Stopwatch.StartNew();
        var results = Task.WhenAll(inputs.Select((y, i) => pipelines[i % pipelines.Length].RestoreAsync(y, options))).GetAwaiter().GetResult();
        double seconds = clock.Elapsed.TotalSeconds;
        double sumOfRestores = results.Sum(r => r.Total.TotalSeconds);
        foreach (var r in results)
        {
            r.Dispose();
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"// CONCURRENCY | {(mode == "one" ? "1 pipeline, 4 concurrent" : "4 pipelines, 1 each")} | wall {seconds:F1} s for 4 restores | {4 / seconds * 60:F1} restores/min | mean restore {sumOfRestores / 4:F1} s | peak RSS {PeakRssMiB():F0} MiB |"));
        foreach (var p in pipelines)
        {
            p.Dispose();
        }
    }

    private static double PeakRssMiB()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
